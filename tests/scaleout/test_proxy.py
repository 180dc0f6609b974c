"""Behind nginx, every connection to a server process comes from nginx's address. The rate limits
are per client address and shared by the processes (Redis), so the processes must take the
client's address from nginx's X-Forwarded-For (VISUS_PROXIES=1): one client's failed logins must
not lock every other clinician out. Clients here are told apart by their loopback address
(127.0.0.2, 127.0.0.3), which nginx (listening on 127.0.0.1) sees as different hosts."""

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.clients import EMAIL, PASSWORD, csrf, first_clinician

pytestmark = pytest.mark.scaleout


class FromAddress(HTTPAdapter):
    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def browser_at(address: str) -> requests.Session:
    http = requests.Session()
    http.mount("http://", FromAddress(address))
    return http


def log_in(http: requests.Session, base_url: str, password: str) -> int:
    page = http.get(base_url + "/login")
    assert page.ok, page.status_code
    return http.post(
        base_url + "/login",
        data={"email": EMAIL, "password": password, "csrf_token": csrf(page.text)},
        allow_redirects=False,
    ).status_code


def test_failed_logins_lock_out_their_own_address_only_across_processes(deployment):
    deployment.start(2)
    nginx = deployment.start_nginx()
    first_clinician(nginx.base_url)
    attacker, clinician = browser_at("127.0.0.2"), browser_at("127.0.0.3")
    statuses = [log_in(attacker, nginx.base_url, "wrong password") for _ in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429, statuses
    assert log_in(attacker, nginx.base_url, PASSWORD) == 429  # still locked out, even with the password
    assert log_in(clinician, nginx.base_url, PASSWORD) == 302  # another address is not
