"""pipeline.client against a small local HTTP server that answers like TorchServe + the handler:
tokens checked against a key file it can renew, 503s on demand, per-row errors in `texts` lists."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer

import pytest

from pipeline.client import ClientError, Explanation, IntentClient, Prediction, RowError, TokenFile
from tests.http_helpers import JsonHandler

TOKEN_ERROR = {"code": 400, "type": "InvalidKeyException",
               "message": "Token Authorization failed. Token either incorrect, expired, or not provided correctly"}


def answer(text: str) -> dict:
    return {"intent": "code_generation" if "code" in text else "conversation", "confidence": 0.9,
            "complexity": {"level": "simple", "score": 0.1},
            "top_intents": [{"intent": "code_generation", "confidence": 0.9}],
            "all_intents": {"code_generation": 0.9, "conversation": 0.1},
            "suggested_techniques": ["explicit_constraints"], "model_version": "1", "cached": False,
            "low_confidence": False, "echo": text}


class FakeTorchServe:
    """Checks `Authorization: Bearer <key>`; renew() swaps the key like /token?type=inference."""

    def __init__(self, key_file):
        self.key_file, self.key = key_file, "key-1"
        self.write_key_file()
        self.unavailable = 0  # answer this many requests with 503 first
        self.dead_worker_statuses: list[int] = []  # then these, as TorchServe answers a dead worker's rows
        self.bodies: list[dict] = []
        self.auth_seen: list[str] = []
        fake = self

        class Handler(JsonHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.auth_seen.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"Bearer {fake.key}":
                    return self.reply(400, TOKEN_ERROR)
                fake.bodies.append(body)
                if fake.unavailable:
                    fake.unavailable -= 1
                    return self.reply(503, {"code": 503, "type": "ServiceUnavailableException",
                                            "message": "Model \"intent_classifier\" has no worker to serve inference request."})
                if fake.dead_worker_statuses:
                    return self.reply(fake.dead_worker_statuses.pop(0),
                                      {"code": 507, "type": "InternalServerException", "message": "Worker died."})
                if "texts" in body:
                    return self.reply(200, [{"error": "empty text", "code": 400, "index": i} if not t else answer(t)
                                            for i, t in enumerate(body["texts"])])
                if not body.get("text"):
                    return self.reply(400, {"error": "'text' must be a non-empty string", "code": 400})
                out = answer(body["text"])
                if self.path.startswith("/explanations"):
                    out["explanation"] = {"target_intent": body.get("target_intent", out["intent"]),
                                          "method": "layer_integrated_gradients", "n_steps": 20,
                                          "convergence_delta": 0.01,
                                          "words": [{"word": "fix", "start": 0, "end": 3, "attribution": 0.7}]}
                return self.reply(200, out)


        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def write_key_file(self):
        self.key_file.write_text(json.dumps({"inference": {"key": self.key, "expiration time": "2030-01-01T00:00:00Z"},
                                             "management": {"key": "m", "expiration time": "2030-01-01T00:00:00Z"},
                                             "API": {"key": "api"}}))

    def renew(self, write_after_s: float = 0.0):
        """New key at once; the file follows after write_after_s (TorchServe swaps, then writes)."""
        self.key = f"key-{int(self.key.split('-')[1]) + 1}"
        if write_after_s:
            threading.Timer(write_after_s, self.write_key_file).start()
        else:
            self.write_key_file()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake(tmp_path):
    server = FakeTorchServe(tmp_path / "key_file.json")
    yield server
    server.close()


def client_for(fake, **kwargs) -> IntentClient:
    return IntentClient(fake.url, token_file=fake.key_file, sleep=lambda s: None, **kwargs)


def test_predict_returns_a_typed_prediction_with_the_token_from_the_key_file(fake):
    prediction = client_for(fake).predict("write code that sorts a list")
    assert isinstance(prediction, Prediction)
    assert prediction.intent == "code_generation" and prediction.complexity.level == "simple"
    assert prediction.top_intents[0].confidence == 0.9
    assert fake.auth_seen == ["Bearer key-1"]


def test_a_renewed_token_is_re_read_and_the_call_retried_once(fake):
    client = client_for(fake)
    client.predict("hello")
    fake.renew()
    reply = client.request("POST", "predictions/intent_classifier", json={"text": "hello again"})
    assert reply.status == 200
    assert reply.token_rereads == 1 and reply.attempts == 2
    assert fake.auth_seen[-2:] == ["Bearer key-1", "Bearer key-2"]
    client.predict("third")  # the new key is kept: no further re-read
    assert fake.auth_seen[-1] == "Bearer key-2" and len(fake.auth_seen) == 4


def test_the_client_waits_for_a_key_file_written_after_the_server_swapped_its_key(fake):
    client = client_for(fake)
    client.predict("hello")
    fake.renew(write_after_s=0.3)
    assert client.predict("hello again").intent == "conversation"


def test_a_token_refused_after_the_re_read_raises_with_the_servers_message(fake):
    client = client_for(fake)
    fake.key = "a key nobody has"  # the file still holds key-1
    client._token.settle_s = 0.2
    with pytest.raises(ClientError) as raised:
        client.predict("hello")
    assert raised.value.status == 400 and "Token Authorization failed" in raised.value.message
    assert len(fake.auth_seen) == 2  # the first call and one retry, no more


def test_503_is_retried_with_back_off_until_answered(fake):
    sleeps = []
    client = IntentClient(fake.url, token_file=fake.key_file, sleep=sleeps.append, retries=3, backoff=0.5)
    fake.unavailable = 2
    reply = client.request("POST", "predictions/intent_classifier", json={"text": "hello"})
    assert reply.status == 200 and reply.attempts == 3
    assert sleeps == [0.5, 1.0]


def test_rows_of_a_worker_that_died_are_sent_again_whatever_the_status(fake):
    fake.dead_worker_statuses = [507, 413, 500]
    reply = client_for(fake).request("POST", "predictions/intent_classifier", json={"text": "hello"})
    assert reply.status == 200 and reply.attempts == 4


def test_503_beyond_the_retries_raises_with_the_servers_message(fake):
    fake.unavailable = 10
    with pytest.raises(ClientError) as raised:
        client_for(fake, retries=2).predict("hello")
    assert raised.value.status == 503 and "no worker" in raised.value.message
    assert len(fake.bodies) == 3


def test_a_bad_request_raises_at_once_with_the_handlers_message(fake):
    with pytest.raises(ClientError) as raised:
        client_for(fake).predict("")
    assert raised.value.status == 400 and "non-empty" in raised.value.message
    assert len(fake.auth_seen) == 1  # not a token problem: no re-read, no retry


def test_predict_many_sends_chunks_of_at_most_100_and_keeps_the_order(fake):
    texts = [f"code {i}" if i != 150 else "" for i in range(250)]
    answers = client_for(fake).predict_many(texts)
    assert [len(b["texts"]) for b in fake.bodies] == [100, 100, 50]
    assert len(answers) == 250
    assert answers[150] == RowError(index=150, code=400, error="empty text")
    assert all(isinstance(a, Prediction) for i, a in enumerate(answers) if i != 150)
    assert [b["texts"] for b in fake.bodies] == [texts[0:100], texts[100:200], texts[200:250]]


def test_explain_sends_the_target_and_returns_word_attributions(fake):
    explanation = client_for(fake).explain("fix my code", target="code_generation")
    assert isinstance(explanation, Explanation)
    assert fake.bodies[-1] == {"text": "fix my code", "target_intent": "code_generation"}
    assert explanation.target_intent == "code_generation" and explanation.words[0].word == "fix"
    assert explanation.prediction.intent == "code_generation"


def test_a_half_written_key_file_is_read_again(tmp_path):
    path = tmp_path / "key_file.json"
    path.write_text('{"inference": {"ke')
    threading.Timer(0.2, lambda: path.write_text('{"inference": {"key": "k"}}')).start()
    assert TokenFile(path).read() == "k"


def test_the_benchmarks_light_client_follows_a_renewal_too(fake):
    from pipeline.deploy.benchmark import _client

    post = _client(fake.server.server_address[1], TokenFile(fake.key_file), "/predictions/intent_classifier")
    assert post("hello")[0] == 200
    fake.renew()
    assert post("hello again")[0] == 200
    assert fake.auth_seen[-2:] == ["Bearer key-1", "Bearer key-2"]
