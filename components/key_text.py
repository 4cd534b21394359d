"""No private key text in any error, whatever the cloud's API did with it (the ACM import, the deployment targets).

A key can reach error text three ways: an API that echoes its input in a message (ACM), a JSON body echoed by a
gateway, and an RPC-style API (Alibaba CAS) that sends every parameter, the key included, in the URL's query,
which requests/urllib3 print in a transport error ("Max retries exceeded with url: /?...Key=-----BEGIN+PRIVATE+
KEY-----%0AMIIE..."). So, in order:
- every URL query is cut (`?[query removed]`): no error text needs one, and an RPC query also carries the access
  key id and signature;
- PEM blocks, long base64 runs and each line of the key are removed;
- what is left is decoded (URL-decoded, '+' read as a space, JSON string escapes read) and searched for the key's
  base64 in any of those encodings; text that still shows any of it is withheld whole (WITHHELD).
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import unquote, unquote_plus

from components.errors import CloudError

PEM_BLOCK = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.S)
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/=]{40,}")
_URL_QUERY = re.compile(r"\?[^\s'\"<>(){}\[\]]+")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9/=]")   # '+' too: it may have been read as a space
# A run of this many of the key's base64 characters anywhere in a text is key text. Every such run of the key is
# looked for (a window sliding one character at a time): removing the long base64 runs can leave a piece of the
# key between two escapes (%2B, %2F) of up to 39 characters, which windows taken at a stride would miss. A run
# is looked for without its '+' (read as a space, then dropped), so a run holding '+' is looked for shorter.
KEY_CHUNK = 16
WITHHELD = "[the error text is withheld: it held text of the private key]"


def cut_url_queries(text: str) -> str:
    """`text` without any URL query (RPC APIs put every parameter there, the key and the signature too)."""
    return _URL_QUERY.sub("?[query removed]", text)


_JSON_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|(.))")


def _json_unescaped(text: str) -> str:
    """JSON string escapes read (a gateway echoing a JSON body writes the key's line breaks as \\n and may write
    '+' as \\u002B): left as they are, the letter of an escape would cut every run of the key across it."""
    return _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else {"n": "\n", "r": "\r", "t": "\t"}.get(
        m[2], m[2]), text)


def _decodings(text: str) -> tuple[str, ...]:
    url_decoded = (unquote(text), unquote_plus(text))   # a JSON body may be URL-encoded too: both, in that order
    return text, *url_decoded, *(_json_unescaped(t) for t in (text, *url_decoded))


def _key_chunks(private_key_pem: str | None) -> frozenset[str]:
    """Every run of KEY_CHUNK characters of the key's base64, each without its '+' (as in the texts searched)."""
    body = "".join(l.strip() for l in (private_key_pem or "").splitlines() if "-----" not in l)
    return frozenset(_NOT_BASE64.sub("", body[i:i + KEY_CHUNK]) for i in range(len(body) - KEY_CHUNK + 1))


def _holds_chunk(flat: str, chunks: frozenset[str], sizes: set[int]) -> bool:
    return any(flat[i:i + size] in chunks for size in sizes for i in range(len(flat) - size + 1))


def shows_key(text: str, private_key_pem: str | None) -> bool:
    """Does `text` hold the key's text in any encoding (raw, URL-encoded, '+' for a space), or a PEM key block?"""
    chunks = _key_chunks(private_key_pem)
    sizes = {len(chunk) for chunk in chunks}   # a run holding '+' is shorter
    for decoded in _decodings(text):
        if "-----BEGIN" in decoded or "PRIVATE KEY-----" in decoded:
            return True
        if chunks and _holds_chunk(_NOT_BASE64.sub("", decoded), chunks, sizes):
            return True
    return False


def _scrubbed(text: str, private_key_pem: str | None) -> str:
    text = PEM_BLOCK.sub("[PEM removed]", cut_url_queries(text))
    for line in (private_key_pem or "").splitlines():
        if len(line.strip()) >= 16 and "-----" not in line:
            text = text.replace(line.strip(), "[key text removed]")
    return _BASE64_RUN.sub("[base64 removed]", text)


def scrub(text: str, private_key_pem: str | None = None) -> str:
    """`text` without URL queries, PEM blocks, long base64 runs or any line of the private key; WITHHELD when
    what is left still shows key text in some encoding."""
    cleaned = _scrubbed(text, private_key_pem)
    return WITHHELD if shows_key(cleaned, private_key_pem) else cleaned


def error_chain_text(err: BaseException | None) -> str:
    texts, seen = [], set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        texts.append(str(err))
        err = err.__cause__ or err.__context__
    return "\n".join(texts)


def holds_key_text(text: str, private_key_pem: str | None) -> bool:
    return (shows_key(text, private_key_pem) or _URL_QUERY.search(text) is not None
            or scrub(text, private_key_pem) != scrub(text))


def scrubbed_error(err: CloudError, private_key_pem: str | None) -> CloudError:
    """The same CloudError with its message scrubbed (raise it `from None`: the chain may hold the key)."""
    return CloudError(err.cloud, err.call, err.resource, err.code,
                      scrub(str(err).split(f"{err.code}: ", 1)[-1], private_key_pem))


class NoKeyText:
    """Whatever leaves a provider method: if its text (or a chained exception's) could hold key material, it
    leaves as a scrubbed CloudError with no chain (the engine prints chained exceptions too)."""

    def __init__(self, step: str, resource: str, props: Mapping[str, Any], cloud: str = "aws",
                 service: str = "acm") -> None:
        self.step, self.resource, self.key = step, resource, props.get("private_key_pem")
        self.cloud, self.service = cloud, service

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, err: BaseException | None, _tb: Any) -> bool:
        if err is None or not isinstance(err, Exception):
            return False
        key = self.key if isinstance(self.key, str) else None
        if holds_key_text(error_chain_text(err), key):
            if isinstance(err, CloudError):
                raise scrubbed_error(err, key) from None
            raise CloudError(self.cloud, f"{self.service} ({self.step})", self.resource, type(err).__name__,
                             scrub(str(err), key)) from None
        return False
