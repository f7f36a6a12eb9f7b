def test_probe(session_client, app):
    r = session_client.api("POST", "/api/v1/projects/", {"name": "x"})
    print(r.status_code, r.get_json())
