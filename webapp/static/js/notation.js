// Display-only formatting of sizes the server chose (the server does every calculation that counts).
// Snellen from logMAR: 6/y with y = 6 * 10^logMAR, 20/x with x = 20 * 10^logMAR
// (standard table: American Journal of Ophthalmology, "Reporting visual acuities").
const TABLE_20FT = { "1.0": 200, "0.9": 160, "0.8": 125, "0.7": 100, "0.6": 80, "0.5": 63, "0.4": 50,
  "0.3": 40, "0.2": 32, "0.1": 25, "0.0": 20, "-0.1": 16, "-0.2": 12.5, "-0.3": 10 };
const TABLE_6M = { "1.0": 60, "0.9": 48, "0.8": 38, "0.7": 30, "0.6": 24, "0.5": 20, "0.4": 15,
  "0.3": 12, "0.2": 10, "0.1": 7.5, "0.0": 6, "-0.1": 5, "-0.2": 3.75, "-0.3": 3 };

function trim(value) {
  return String(Math.round(value * 10) / 10);
}

export function formatLogmar(logmar) {
  const rounded = Math.round(logmar * 100) / 100;
  const text = (Object.is(rounded, -0) ? 0 : rounded).toFixed(2);
  return `${text} logMAR`;
}

function tableKey(logmar) {
  const rounded = Math.round(logmar * 10) / 10;
  if (Math.abs(rounded - logmar) > 0.005) return null;
  return (Object.is(rounded, -0) ? 0 : rounded).toFixed(1);
}

export function snellen6m(logmar) {
  const key = tableKey(logmar);
  return `6/${key && key in TABLE_6M ? TABLE_6M[key] : trim(6 * 10 ** logmar)}`;
}

export function snellen20ft(logmar) {
  const key = tableKey(logmar);
  return `20/${key && key in TABLE_20FT ? TABLE_20FT[key] : trim(20 * 10 ** logmar)}`;
}

/** "6/12 (20/40, 0.30 logMAR)" */
export function describeSize(logmar) {
  return `${snellen6m(logmar)} (${snellen20ft(logmar)}, ${formatLogmar(logmar)})`;
}

export function formatDistance(mm) {
  if (mm >= 1000) return `${trim(mm / 1000)} m`;
  return `${Math.round(mm / 10)} cm`;
}
