"""An announcement's Markdown, as the page, the feed and the API show it (sanitised HTML), and as an excerpt or an
e-mail shows it (plain text: its words, without raw HTML or link targets).

Two well-kept libraries, one after the other: markdown-it-py renders CommonMark with raw HTML off (a `<script>`
typed into the text is shown as those characters) and refuses `javascript:`, `vbscript:`, `file:` and `data:`
links; nh3 (ammonia) then keeps only the tags Markdown makes, links only to http, https and mailto (relative
ones dropped), and adds rel="nofollow noopener" to every link. No images: `![x](url)` becomes a link to the
image, so no page loads a picture from elsewhere. Headings start at h3 below the page's own h1 and h2.
"""

import re
from functools import cache

import nh3
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = {
    "p", "br", "hr", "h3", "h4", "h5", "h6", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow noopener"
_HIDING_TAG = re.compile(r"<(script|style)\b", re.IGNORECASE)
# An announcement's headings sit below the page's h1 (its title) and h2 (the block it is shown in).
HEADING_OFFSET = 2


@cache
def _markdown() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("strikethrough")


@cache
def _words_parser() -> MarkdownIt:
    """For plain text only, never for HTML: raw HTML is recognised (to be left out) and every link target is
    accepted (to show only its words)."""
    md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable("strikethrough")
    md.validateLink = lambda url: True  # type: ignore[method-assign]
    return md


@cache
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        link_rel=LINK_REL,
        url_schemes=URL_SCHEMES,
        url_relative="deny",
    )


def _tokens(source: str) -> list[Token]:
    tokens = _markdown().parse(source)
    _adjust(tokens)
    return tokens


def _adjust(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_OFFSET, 6)}"
        elif token.type == "inline" and token.children:
            token.children = [part for child in token.children for part in _image_as_link(child)]


def _image_as_link(token: Token) -> list[Token]:
    """An image as a link to it, named by its description (or its address)."""
    if token.type != "image":
        return [token]
    source = str(token.attrGet("src") or "")
    return [
        Token("link_open", "a", 1, attrs={"href": source}),
        Token("text", "", 0, content=token.content or source),
        Token("link_close", "a", -1),
    ]


def render_markdown(source: str) -> SafeString:
    """The text as HTML that is safe to put in a page, a feed or an API answer."""
    md = _markdown()
    html = md.renderer.render(_tokens(source), md.options, {})
    return mark_safe(_cleaner().clean(html))  # noqa: S308 - sanitised by nh3 just now


def plain_text(source: str) -> str:
    """The words of the text on one line, without its Markdown: what an excerpt or an e-mail shows. Links give
    their words, not their targets (whatever the scheme); raw HTML is left out, with what a script or style tag
    holds."""
    parts: list[str] = []
    for token in _words_parser().parse(source):
        if token.type == "inline":
            parts.extend(_inline_words(token.children or []))
            parts.append(" ")
        elif token.type in ("fence", "code_block"):
            parts.append(f" {token.content} ")
    return " ".join("".join(parts).split())


def _inline_words(children: list[Token]) -> list[str]:
    words: list[str] = []
    hidden_until: str | None = None  # inside an inline <script> or <style>, the tag that closes it
    for child in children:
        if child.type == "html_inline":
            tag = _HIDING_TAG.match(child.content)
            if hidden_until is None and tag:
                hidden_until = f"</{tag[1].lower()}"
            elif hidden_until is not None and child.content.lower().startswith(hidden_until):
                hidden_until = None
        elif hidden_until is not None:
            continue
        elif child.type in ("text", "code_inline", "image"):
            words.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            words.append(" ")
    return words


def excerpt(source: str, length: int = 240) -> str:
    return Truncator(plain_text(source)).chars(length)
