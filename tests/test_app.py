def test_index_page_names_the_product(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Visus" in response.data


def test_health_check(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
