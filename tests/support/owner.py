"""A business owner's browser, by hand, for the pages' tests that need no rendering: cookies kept as a browser keeps
them (per name and path, sent to the paths they cover; Secure ones too, on http://localhost, as browsers do there and
httpx's cookie jar does not), redirects followed one at a time so each answer can be checked."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import httpx


class Owner:
    def __init__(self, timeout: float = 30.0) -> None:
        self.http = httpx.Client(follow_redirects=False, timeout=timeout)
        self.cookies: dict[tuple[str, str], str] = {}  # (name, path) -> value

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, url: str, data: dict[str, str] | None = None) -> httpx.Response:
        path = urlsplit(url).path or "/"
        sent = "; ".join(
            f"{name}={value}"
            for (name, cookie_path), value in self.cookies.items()
            if path == cookie_path or path.startswith(cookie_path.rstrip("/") + "/")
        )
        headers = {"cookie": sent} if sent else {}
        response = self.http.request(method, url, data=data, headers=headers)
        for header in response.headers.get_list("set-cookie"):
            self._keep(header)
        return response

    def get(self, url: str) -> httpx.Response:
        return self.request("GET", url)

    def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        return self.request("POST", url, data)

    def follow(self, response: httpx.Response) -> httpx.Response:
        """GET the Location of a redirect (relative to the answer's URL)."""
        assert response.status_code in (302, 303), f"{response.status_code}: {response.text[:300]}"
        return self.get(urljoin(str(response.url), response.headers["location"]))

    def _keep(self, header: str) -> None:
        name_value, *attributes = [part.strip() for part in header.split(";")]
        name, _, value = name_value.partition("=")
        path = "/"
        max_age = None
        for attribute in attributes:
            key, _, text = attribute.partition("=")
            if key.lower() == "path":
                path = text
            elif key.lower() == "max-age":
                max_age = int(text)
        if max_age is not None and max_age <= 0:
            self.cookies.pop((name, path), None)
        else:
            self.cookies[(name, path)] = value


def form_fields(html: str, form_id: str | None = None) -> tuple[str, dict[str, str]]:
    """The action and the inputs (hidden, text, checked boxes, first option of selects) of a form."""
    forms = re.findall(r"<form\b([^>]*)>(.*?)</form>", html, re.S)
    for attributes, body in forms:
        if form_id is not None and f'id="{form_id}"' not in attributes:
            continue
        action = unescape(re.search(r'action="([^"]*)"', attributes).group(1))  # type: ignore[union-attr]
        fields: dict[str, str] = {}
        for tag in re.findall(r"<input\b[^>]*>", body):
            name = re.search(r'name="([^"]*)"', tag)
            if name is None:
                continue
            kind = re.search(r'type="([^"]*)"', tag)
            if kind and kind.group(1) in ("checkbox", "radio") and "checked" not in tag:
                continue
            value = re.search(r'value="([^"]*)"', tag)
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
        for name, options in re.findall(r'<select[^>]*name="([^"]*)"[^>]*>(.*?)</select>', body, re.S):
            selected = re.search(r'<option value="([^"]*)" selected', options) or re.search(
                r'<option value="([^"]*)"', options
            )
            fields[unescape(name)] = unescape(selected.group(1)) if selected else ""
        for name, text in re.findall(r'<textarea[^>]*name="([^"]*)"[^>]*>(.*?)</textarea>', body, re.S):
            fields[unescape(name)] = unescape(text)
        return action, fields
    raise AssertionError(f"no form {form_id or ''} in the page: {html[:300]}")
