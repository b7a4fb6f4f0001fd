"""How to call a model from the clients users already have, for the page's model card: a
text-embeddings-inference client (curl on TEI's route, tei-client) and huggingface_hub's
InferenceClient, each a few lines of code for the model's type and task. `{base}` stands for the
server's address, which the page fills in."""

from __future__ import annotations

from pydantic import BaseModel

from service.tasks.base import ServingTask

TEXTS = '["A man is playing a guitar.", "Someone plays an instrument."]'
TEXT = '"a gorgeous, witty film"'
QUESTION = '"Where is the museum?", "The museum is in Zurich, near the lake."'
ENTITIES = '"Angela Merkel visited Paris"'


class Snippet(BaseModel):
    client: str
    language: str
    code: str


class ClientSnippets(BaseModel):
    model: str
    snippets: list[Snippet]


def _tei(name: str, kind: str | None, auth: str) -> list[Snippet]:
    """curl on TEI's route and tei-client's HttpClient for a classifier or an embedding model."""
    if kind == "embedding":
        route, body, call = "embed", f'{{"inputs": {TEXTS}}}', f"embed({TEXTS})"
    elif kind == "classifier":
        route, body, call = "predict", f'{{"inputs": {TEXT}}}', f"classify({TEXT})"
    else:
        return []
    header = " -H 'authorization: Bearer <api key>'" if auth else ""
    curl = (f"curl -s {{base}}/models/{name}/{route} -H 'content-type: application/json'{header} \\\n"
            f"     -d '{body}'")
    headers = ', headers={"Authorization": "Bearer <api key>"}' if auth else ""
    python = f'from tei_client import HttpClient\n\nclient = HttpClient("{{base}}/models/{name}"{headers})\nclient.{call}'
    return [Snippet(client="text-embeddings-inference (curl)", language="bash", code=curl),
            Snippet(client="text-embeddings-inference (tei-client)", language="python", code=python)]


CALLS = {
    "feature-extraction": f"client.feature_extraction({TEXTS})",
    "sentence-similarity": 'client.sentence_similarity("A man is playing a guitar.", ["Someone plays an instrument."])',
    "text-classification": f"client.text_classification({TEXT})",
    "token-classification": f"client.token_classification({ENTITIES})",
    "question-answering": f"client.question_answering({QUESTION})",
}


def client_snippets(name: str, task: ServingTask, auth: bool) -> ClientSnippets:
    """The snippets of model `name` of `task`; `auth`: the server wants an API key."""
    token = ', token="<api key>"' if auth else ""
    calls = "\n".join(CALLS[t] for t in task.hub_tasks() if t in CALLS)
    hub = f'from huggingface_hub import InferenceClient\n\nclient = InferenceClient("{{base}}/models/{name}"{token})\n{calls}'
    return ClientSnippets(model=name, snippets=[
        *_tei(name, task.tei_type, "auth" if auth else ""),
        Snippet(client="huggingface_hub InferenceClient", language="python", code=hub),
    ])
