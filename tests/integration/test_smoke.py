from tests.conftest import load_event
from tests.support import CUSTOMER_ID, SUBSCRIPTION_ID


def test_iam_post_creates_session_from_base64_body(invoke, paddle, aws):
    sent = paddle.creates_session(CUSTOMER_ID, (SUBSCRIPTION_ID,))

    response = invoke(load_event("http_api/post_portal_sessions_iam.json"))

    assert response["statusCode"] == 201
    assert response["headers"]["Cache-Control"] == "no-store"
    assert paddle.sent_json() == {"subscription_ids": [SUBSCRIPTION_ID]}
    assert aws.get_secret_value == 1
    import json
    assert json.loads(response["body"]) == {"data": sent["data"], "meta": {"request_id": sent["meta"]["request_id"]}}
