"""LL301 http-call-without-timeout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Set

import libcst as cst

from lambdalint.model import Edit, Fix, FixSafety, Span
from lambdalint.python import values
from lambdalint.rule import Example, Option, PythonRule

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

REQUESTS_FUNCTIONS = {
    f"{module}.{method}": f"requests.{method}"
    # botocore.vendored.requests: the copy old Lambda runtimes shipped inside botocore
    for module in ("requests", "requests.api", "botocore.vendored.requests")
    for method in HTTP_METHODS
}
REQUESTS_SESSIONS = ("requests.Session", "requests.session", "requests.sessions.Session",
                     "requests.sessions.session")
REQUESTS_SESSION_METHODS = {
    f"{session}.{method}": f"requests.Session.{method}"
    for session in REQUESTS_SESSIONS
    for method in HTTP_METHODS
}

#: callables whose ``timeout`` is also their third positional parameter
URLLIB_CALLS = {
    "urllib.request.urlopen": "urllib.request.urlopen",
    "urllib.request.build_opener.open": "OpenerDirector.open",
    "urllib.request.OpenerDirector.open": "OpenerDirector.open",
    "http.client.HTTPConnection": "http.client.HTTPConnection",
    "http.client.HTTPSConnection": "http.client.HTTPSConnection",
}

URLLIB3_POOLS = (
    "urllib3.PoolManager",
    "urllib3.poolmanager.PoolManager",
    "urllib3.ProxyManager",
    "urllib3.poolmanager.ProxyManager",
    "urllib3.HTTPConnectionPool",
    "urllib3.HTTPSConnectionPool",
    "urllib3.connectionpool.HTTPConnectionPool",
    "urllib3.connectionpool.HTTPSConnectionPool",
    "urllib3.connection_from_url",
    "urllib3.connectionpool.connection_from_url",
    "urllib3.proxy_from_url",
)
URLLIB3_POOL_METHODS = {
    f"{pool}.{method}": pool
    for pool in URLLIB3_POOLS
    for method in ("request", "urlopen", "request_encode_url", "request_encode_body")
}
#: ``urllib3.request(...)`` (urllib3 2) uses a module-wide pool that has no timeout
URLLIB3_FUNCTIONS = ("urllib3.request",)

AIOHTTP_SESSIONS = ("aiohttp.ClientSession", "aiohttp.client.ClientSession")
AIOHTTP_FUNCTIONS = ("aiohttp.request", "aiohttp.client.request")

HTTPX_CLIENTS = ("httpx.Client", "httpx.AsyncClient")
HTTPX_CALLS = {
    **{f"httpx.{method}": f"httpx.{method}" for method in (*HTTP_METHODS, "stream")},
    **{
        f"{client}.{method}": f"{client}.{method}"
        for client in HTTPX_CLIENTS
        for method in (*HTTP_METHODS, "stream", "send")
    },
    **{client: client for client in HTTPX_CLIENTS},
}


@dataclass
class _Candidate:
    node: cst.Call
    label: str  #: as the message shows it: `written` (resolved)
    kind: str  # requests | urllib | urllib3 | aiohttp-session | aiohttp | httpx
    #: the creation of the session/pool the call goes through, when known
    creation: Optional[cst.CSTNode] = None
    receiver: Optional[str] = None
    detail: str = "without a timeout"


class HttpCallWithoutTimeout(PythonRule):
    """An HTTP call that can wait forever for a server that does not answer.

    ## What it does
    Flags outbound HTTP calls made without a timeout:

    - `requests.get/post/put/patch/delete/head/options/request`, and the same methods on a
      `requests.Session` (`s = requests.Session()`, `with requests.Session() as s:`), without
      `timeout=`, with `timeout=None`, or with no read timeout (`timeout=(3, None)`);
    - `urllib.request.urlopen(...)` and `opener.open(...)` without `timeout`;
    - `http.client.HTTPConnection`/`HTTPSConnection` without `timeout`;
    - `urllib3` pools (`PoolManager`, `HTTPConnectionPool`...) whose requests have neither a
      pool timeout nor a per-call timeout, and `urllib3.request(...)` without one;
    - `aiohttp.ClientSession()` without `timeout=` (unless calls on it pass one), and
      `aiohttp.request(...)` without one;
    - `httpx` only where the timeout is switched off: `timeout=None` or
      `httpx.Timeout(None)` (httpx's default is 5 seconds).

    Imports are resolved (`import requests as r`, `from requests import get as fetch`), and
    so are sessions, pools and clients bound once to a name or to a `self` attribute. The
    rule looks at the whole module, not only at handlers: a hang in a helper is a hang of the
    function. Calls that spread `**kwargs` (which may hold a timeout), sessions with a mounted
    adapter (`s.mount(...)`, the usual place for a default timeout) and modules that call
    `socket.setdefaulttimeout(...)` (for urllib, http.client and urllib3) are not flagged; nor
    is code under `if __name__ == "__main__":`.

    ## Why is this bad in Lambda
    `requests`, `urllib`, `http.client` and `urllib3` wait forever by default, and aiohttp for
    five minutes. A slow or dead endpoint then holds the invocation until Lambda kills it at
    the function's timeout: you pay for the whole wait, the caller gets a timeout error with
    no useful message instead of a handled failure, concurrency is consumed by stuck
    invocations, and queue-fed functions retry into the same hang.

    ## Example
    ```python
    import requests

    def lambda_handler(event, context):
        return requests.get("https://api.example.com/rates").json()
    ```

    ## Use instead
    ```python
    import requests

    def lambda_handler(event, context):
        return requests.get("https://api.example.com/rates", timeout=(3.05, 10)).json()
    ```

    ## Fix safety
    Unsafe: the fix passes `timeout=<default-timeout>` to requests, `urllib.request.urlopen`
    and `http.client` calls (or replaces `timeout=None`); whether that many seconds suit the
    call, and whether the code handles the timeout exception, is the author's call. urllib3,
    aiohttp and httpx timeouts are objects and get only the hint.
    """

    id = "LL301"
    name = "http-call-without-timeout"
    fix_safety = FixSafety.UNSAFE
    options = {
        "default-timeout": Option(
            int, 10, "the timeout in seconds that the hint suggests (keep it below the function's)"
        ),
    }

    INVALID = (
        Example(
            "import requests\n\ndef lambda_handler(event, context):\n"
            "    return requests.get('https://api.example.com/rates').json()\n",
            lines=(4,),
        ),
        # aliases, timeout=None, every method
        Example(
            "import requests as r\nfrom requests import post as send\n\n"
            "def handler(event, context):\n    r.put('https://x', json={}, timeout=None)\n"
            "    send('https://x', data=b'')\n    r.request('GET', 'https://x')\n",
            lines=(5, 6, 7),
        ),
        # sessions: assigned, in a with block, inline, at module level
        Example(
            "import requests\nhttp = requests.Session()\n\ndef handler(event, context):\n"
            "    with requests.Session() as s:\n        s.post('https://x', json=event)\n"
            "    requests.Session().get('https://y')\n    return http.delete('https://z')\n",
            lines=(6, 7, 8),
        ),
        Example(
            "import urllib.request\nfrom urllib.request import urlopen as fetch\n"
            "import http.client\n\ndef handler(event, context):\n"
            "    urllib.request.urlopen('https://x')\n    fetch('https://x', b'data')\n"
            "    conn = http.client.HTTPSConnection('api.example.com')\n",
            lines=(6, 7, 8),
        ),
        # a urllib3 pool without a timeout, called without one
        Example(
            "import urllib3\n\nhttp = urllib3.PoolManager(retries=3)\n\n"
            "def handler(event, context):\n    return http.request('GET', 'https://x')\n",
            lines=(6,),
        ),
        Example(
            "import aiohttp\n\nasync def handler(event, context):\n"
            "    async with aiohttp.ClientSession() as session:\n"
            "        async with session.get('https://x') as response:\n"
            "            return await response.json()\n",
            lines=(4,),
        ),
        # httpx: only when the timeout is switched off
        Example(
            "import httpx\n\nclient = httpx.Client(timeout=None)\n\ndef handler(event, context):\n"
            "    return httpx.get('https://x', timeout=httpx.Timeout(None))\n",
            lines=(3, 6),
        ),
        # a timeout that is a constant bound to None
        Example(
            "import requests\nTIMEOUT = None\n\ndef handler(event, context):\n"
            "    return requests.get('https://x', timeout=TIMEOUT)\n",
            lines=(5,),
        ),
    )
    VALID = (
        Example(
            "import requests\n\ndef lambda_handler(event, context):\n"
            "    return requests.get('https://x', timeout=(3.05, 10)).json()\n"
        ),
        # a timeout passed through a variable or a settings object
        Example(
            "import os\nimport requests as r\nTIMEOUT = float(os.environ.get('HTTP_TIMEOUT', '5'))\n\n"
            "def handler(event, context):\n    t = context.get_remaining_time_in_millis() / 1000 - 1\n"
            "    r.get('https://x', timeout=t)\n    r.post('https://x', timeout=TIMEOUT)\n"
        ),
        # **kwargs may hold the timeout
        Example(
            "import requests\n\ndef call(url, **kwargs):\n    return requests.get(url, **kwargs)\n\n"
            "def handler(event, context):\n    return call('https://x', timeout=5)\n"
        ),
        # a session with a mounted adapter (the usual home of a default timeout)
        Example(
            "import requests\nfrom myapp.http import TimeoutAdapter\n\n"
            "session = requests.Session()\nsession.mount('https://', TimeoutAdapter(timeout=5))\n\n"
            "def handler(event, context):\n    return session.get('https://x')\n"
        ),
        # a session subclass that sets its own default, and unrelated .get calls
        Example(
            "import requests\n\nclass TimeoutSession(requests.Session):\n"
            "    def request(self, *args, **kwargs):\n        kwargs.setdefault('timeout', 5)\n"
            "        return super().request(*args, **kwargs)\n\n"
            "def handler(event, context):\n    s = TimeoutSession()\n    event.get('x')\n"
            "    return s.get('https://x')\n"
        ),
        # timeouts given positionally, at the pool, or globally for the socket module
        Example(
            "import socket, urllib3, urllib.request, http.client\n\n"
            "pool = urllib3.PoolManager(timeout=urllib3.Timeout(connect=2, read=5))\n\n"
            "def handler(event, context):\n    pool.request('GET', 'https://x')\n"
            "    urllib.request.urlopen('https://x', None, 5)\n"
            "    http.client.HTTPConnection('h', 80, 5)\n"
            "    return urllib3.PoolManager().request('GET', 'https://x', timeout=3)\n"
        ),
        Example(
            "import socket\nfrom urllib.request import urlopen\nsocket.setdefaulttimeout(5)\n\n"
            "def handler(event, context):\n    return urlopen('https://x').read()\n"
        ),
        # httpx keeps its 5 s default; aiohttp sessions with a timeout, or calls that pass one
        Example(
            "import httpx, aiohttp\n\nasync def handler(event, context):\n"
            "    httpx.get('https://x')\n"
            "    async with httpx.AsyncClient() as c:\n        await c.get('https://x')\n"
            "    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:\n"
            "        await s.get('https://x')\n"
            "    async with aiohttp.ClientSession() as s2:\n"
            "        await s2.get('https://x', timeout=aiohttp.ClientTimeout(total=3))\n"
        ),
        # local tryout code never runs in Lambda
        Example(
            "import requests\n\ndef handler(event, context):\n    return 1\n\n"
            "if __name__ == '__main__':\n    print(requests.get('http://localhost:3000').text)\n"
        ),
        # names that look like the libraries but are not
        Example(
            "from myapp import client as requests\n\ndef handler(event, context):\n"
            "    return requests.get('https://x')\n"
        ),
    )

    def __init__(self, context) -> None:
        super().__init__(context)
        self._candidates: List[_Candidate] = []
        #: creations (sessions) that have an adapter mounted or ``request`` patched
        self._adapted: Set[cst.CSTNode] = set()
        self._adapted_names: Set[str] = set()
        #: aiohttp sessions on which some call passes its own timeout
        self._timed_sessions: Set[cst.CSTNode] = set()
        self._socket_default = False

    # -- helpers -------------------------------------------------------------------------------

    def _names_of(self, node: cst.CSTNode) -> Set[str]:
        return self.qualified_names(node)

    def _call_names(self, call: cst.Call) -> Set[str]:
        return values.call_names(call, self._names_of, self.get_metadata)

    def _receiver_creation(self, call: cst.Call) -> Optional[cst.CSTNode]:
        """The call that made the object ``call`` is a method of (``s`` in ``s.get``)."""
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        receiver = func.value
        if isinstance(receiver, cst.Call):
            return receiver
        if isinstance(receiver, cst.Name):
            return values.single_assignment(receiver, self.get_metadata)
        if isinstance(receiver, cst.Attribute):
            return values.self_attribute_value(receiver, self.get_metadata)
        return None

    def _timeout_state(self, call: cst.Call, positional_index: Optional[int] = None) -> str:
        """``call``'s timeout: ``set`` (or possibly set: a variable, ``**kwargs``, enough
        positional arguments), ``missing``, or how it is switched off (see
        :meth:`_no_timeout_kind`)."""
        if values.has_star_kwargs(call):
            return "set"
        if positional_index is not None and (
            values.positional_count(call) > positional_index or values.has_star_args(call)
        ):
            return "set"
        arg = values.keyword(call, "timeout")
        if arg is None:
            return "missing"
        return self._no_timeout_kind(arg.value) or "set"

    def _no_timeout_kind(self, expression: cst.BaseExpression) -> Optional[str]:
        """How a timeout value switches waiting limits off: ``none`` (``None``),
        ``unlimited`` (``httpx.Timeout(None)``, ``aiohttp.ClientTimeout()``), ``no-read``
        (requests' ``(connect, None)``); ``None`` when it sets a limit or may set one."""
        value = values.resolve(expression, self.get_metadata).value
        if values.is_none(value):
            return "none"
        if isinstance(value, cst.Tuple) and len(value.elements) == 2:
            read = value.elements[1]
            if isinstance(read, cst.Element) and values.is_none(
                values.resolve(read.value, self.get_metadata).value
            ):
                return "no-read"
            return None
        if isinstance(value, cst.Call) and self.qualified_names(value.func) & {
            "httpx.Timeout",
            "aiohttp.ClientTimeout",
        }:
            # httpx.Timeout(None) / aiohttp.ClientTimeout() / ClientTimeout(total=None)
            if not value.args:
                unlimited = "aiohttp.ClientTimeout" in self.qualified_names(value.func)
            else:
                unlimited = all(values.is_none(arg.value) for arg in value.args) and not any(
                    arg.star for arg in value.args
                )
            return "unlimited" if unlimited else None
        return None

    # -- traversal -----------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        # ``s.request = functools.partial(s.request, timeout=5)`` gives a session a default
        for target in node.targets:
            t = target.target
            if isinstance(t, cst.Attribute) and t.attr.value in HTTP_METHODS:
                name = values.identifier_of(t.value)
                if name:
                    self._adapted_names.add(name)

    def visit_Call(self, node: cst.Call) -> None:
        names = self._call_names(node)
        if not names:
            return
        if names & {"socket.setdefaulttimeout"}:
            if node.args and not values.is_none(node.args[0].value):
                self._socket_default = True
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value == "mount":
            if names & {f"{s}.mount" for s in REQUESTS_SESSIONS}:
                creation = self._receiver_creation(node)
                if creation is not None:
                    self._adapted.add(creation)
                name = values.identifier_of(func.value)
                if name:
                    self._adapted_names.add(name)
            return
        if values.in_main_guard(node, self.get_metadata):
            return
        self._classify(node, names)

    def _classify(self, node: cst.Call, names: Set[str]) -> None:
        function = next((REQUESTS_FUNCTIONS[n] for n in sorted(names) if n in REQUESTS_FUNCTIONS), None)
        if function is not None:
            state = self._timeout_state(node)
            if state != "set":
                self._add(node, function, "requests", state)
            return
        method = next(
            (REQUESTS_SESSION_METHODS[n] for n in sorted(names) if n in REQUESTS_SESSION_METHODS),
            None,
        )
        if method is not None:
            is_request = method.endswith(".request")
            state = self._timeout_state(node, 8 if is_request else None)
            if state != "set":
                receiver = node.func.value if isinstance(node.func, cst.Attribute) else None
                self._add(
                    node,
                    method,
                    "requests",
                    state,
                    creation=self._receiver_creation(node),
                    receiver=values.identifier_of(receiver) if receiver is not None else None,
                )
            return
        urllib = next((URLLIB_CALLS[n] for n in sorted(names) if n in URLLIB_CALLS), None)
        if urllib is not None:
            state = self._timeout_state(node, 2)
            if state != "set":
                self._add(node, urllib, "urllib", state)
            return
        pool_method = next((n for n in sorted(names) if n in URLLIB3_POOL_METHODS), None)
        if pool_method is not None:
            self._classify_urllib3(node, pool_method)
            return
        if names & set(URLLIB3_FUNCTIONS):
            state = self._timeout_state(node)
            if state != "set":
                self._add(node, "urllib3.request", "urllib3-function", state)
            return
        if names & set(AIOHTTP_SESSIONS):
            state = self._timeout_state(node)
            if state != "set":
                self._add(node, "aiohttp.ClientSession", "aiohttp-session", state)
            return
        aiohttp_method = {f"{s}.{m}" for s in AIOHTTP_SESSIONS for m in (*HTTP_METHODS, "ws_connect")}
        if names & aiohttp_method:
            if self._timeout_state(node) == "set":
                creation = self._receiver_creation(node)
                if creation is not None:
                    self._timed_sessions.add(creation)
            return
        if names & set(AIOHTTP_FUNCTIONS):
            state = self._timeout_state(node)
            if state != "set":
                self._add(node, "aiohttp.request", "aiohttp", state)
            return
        httpx = next((HTTPX_CALLS[n] for n in sorted(names) if n in HTTPX_CALLS), None)
        if httpx is not None:
            state = self._timeout_state(node)
            if state in ("none", "unlimited"):
                self._add(node, httpx, "httpx", state)

    def _classify_urllib3(self, node: cst.Call, pool_method: str) -> None:
        method = pool_method.rsplit(".", 1)[-1]
        state = self._timeout_state(node, 7 if method == "urlopen" else None)
        if state == "set":
            return
        creation = self._receiver_creation(node)
        if not isinstance(creation, cst.Call):
            return  # the pool is made elsewhere: its timeout is unknown
        positional_timeout = 2 if "ConnectionPool" in URLLIB3_POOL_METHODS[pool_method] else None
        if self._timeout_state(creation, positional_timeout) == "set":
            return
        pool = URLLIB3_POOL_METHODS[pool_method]
        self._add(node, f"{pool}.{method}", "urllib3", state, creation=creation)

    def _add(self, node: cst.Call, label: str, kind: str, state: str, **extra) -> None:
        detail = {
            "none": "with `timeout=None`",
            "unlimited": "with a timeout object that sets no limit",
            "no-read": "with no read timeout (`(connect, None)`)",
        }.get(state, "without a timeout")
        written = self.facts.module.code_for_node(node.func)
        # say what the code says, and what it resolved to when that differs
        if written != label and len(written) <= 40:
            label = f"`{written}` ({label})"
        else:
            label = f"`{label}`"
        self._candidates.append(_Candidate(node, label, kind, detail=detail, **extra))

    # -- reporting -----------------------------------------------------------------------------

    def finish(self) -> None:
        seconds = self.option("default-timeout")
        for candidate in self._candidates:
            if candidate.kind == "requests" and (
                candidate.creation in self._adapted or candidate.receiver in self._adapted_names
            ):
                continue
            if candidate.kind in ("urllib", "urllib3", "urllib3-function") and self._socket_default:
                continue
            if candidate.kind == "aiohttp-session" and candidate.node in self._timed_sessions:
                continue
            self.report(
                candidate.node,
                self._message(candidate),
                hint=self._hint(candidate, seconds),
                fix=self._timeout_fix(candidate, seconds),
            )

    def _timeout_fix(self, candidate: _Candidate, seconds: int) -> Optional[Fix]:
        """Pass ``timeout=<seconds>`` to a requests or urllib/http.client call: right after its
        last argument (keeping a trailing comma and the layout), or in place of ``None``."""
        if candidate.kind not in ("requests", "urllib"):
            return None
        node = candidate.node
        title = f"Pass `timeout={seconds}`"
        for arg in node.args:
            if arg.star:
                return None
            if arg.keyword is not None and arg.keyword.value == "timeout":
                if not values.is_none(arg.value):
                    return None
                return Fix(title, FixSafety.UNSAFE, (Edit(self.span_of(arg.value), str(seconds)),))
        if candidate.detail != "without a timeout":
            return None
        if node.args:
            end = self.span_of(node.args[-1].value)
            at = Span(end.end_line, end.end_column, end.end_line, end.end_column)
            return Fix(title, FixSafety.UNSAFE, (Edit(at, f", timeout={seconds}"),))
        call = self.span_of(node)
        at = Span(call.end_line, call.end_column - 1, call.end_line, call.end_column - 1)
        return Fix(title, FixSafety.UNSAFE, (Edit(at, f"timeout={seconds}"),))

    @staticmethod
    def _message(candidate: _Candidate) -> str:
        what, kind, detail = candidate.label, candidate.kind, candidate.detail
        if kind == "requests":
            return (
                f"{what} is called {detail}: requests waits forever for a server that does not "
                "answer, until Lambda kills the invocation"
            )
        if kind == "urllib":
            return (
                f"{what} is used {detail}: it waits forever for a server that does not answer, "
                "until Lambda kills the invocation"
            )
        if kind == "urllib3":
            return f"{what} is called {detail}, and its pool has none either: it can wait forever"
        if kind == "urllib3-function":
            return f"{what} is called {detail}: urllib3's shared pool has none, so it can wait forever"
        if kind in ("aiohttp-session", "aiohttp") and detail.startswith("with a timeout object"):
            return f"{what} is used {detail}: its requests can wait forever"
        if kind == "aiohttp-session":
            # aiohttp treats a missing timeout and ``timeout=None`` alike: its 5-minute default
            return (
                f"{what} is created without a timeout: its requests may wait up to aiohttp's "
                "default of 5 minutes, longer than most functions should run"
            )
        if kind == "aiohttp":
            return f"{what} is called without a timeout: it may wait up to aiohttp's default of 5 minutes"
        return f"{what} is used {detail}: its requests can wait forever"

    @staticmethod
    def _hint(candidate: _Candidate, seconds: int) -> str:
        kind = candidate.kind
        if kind == "requests":
            return (
                f"pass `timeout={seconds}` (or a `(connect, read)` tuple such as "
                f"`timeout=(3.05, {seconds})`), below the function's own timeout"
            )
        if kind == "urllib3":
            return (
                f"pass `timeout=urllib3.Timeout(connect=3, read={seconds})` to the pool or to "
                "the call"
            )
        if kind == "urllib3-function":
            return f"pass `timeout=urllib3.Timeout(connect=3, read={seconds})`"
        if kind in ("aiohttp-session", "aiohttp"):
            return f"pass `timeout=aiohttp.ClientTimeout(total={seconds})`"
        if kind == "httpx":
            return f"remove `timeout=None` or pass `timeout={seconds}`"
        return f"pass `timeout={seconds}`, below the function's own timeout"
