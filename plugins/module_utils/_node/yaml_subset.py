# -*- coding: utf-8 -*-
# Copyright (c) kubemaint.control_plane contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Private to the kubemaint.control_plane collection: not a public API.

Static pod manifests are YAML, and a control-plane node may have no PyYAML for the Python
the modules run with. `load_yaml` uses PyYAML when it is importable; otherwise it parses the
block-style subset that kubeadm (Go's yaml marshaller) writes: block mappings and sequences,
plain and quoted scalars, empty flow collections (`{}`, `[]`), comments and document markers.
Anything outside that subset raises YamlSubsetError naming the line, never a wrong result.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

try:
    import yaml
    HAS_PYYAML = True
except ImportError:
    HAS_PYYAML = False


class YamlSubsetError(ValueError):
    """The text is not YAML, or uses YAML this fallback parser does not understand."""


def load_yaml(text, prefer_pyyaml=True):
    """Parse one YAML document; PyYAML when present, the subset parser otherwise."""
    if prefer_pyyaml and HAS_PYYAML:
        loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
        try:
            return yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader is used
        except yaml.YAMLError as exc:
            raise YamlSubsetError('not valid YAML: %s' % exc)
    return _SubsetParser(text).parse()


_INT_RE = re.compile(r'^[-+]?(0|[1-9][0-9]*)$')
_FLOAT_RE = re.compile(r'^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$')
_KEY_RE = re.compile(r'''^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^'"#{}\[\]&*!|>%@`,\s][^#]*?)\s*:(\s+|$)''')


def _scalar(token, lineno):
    token = token.strip()
    if not token or token in ('~', 'null', 'Null', 'NULL'):
        return None
    if token[0] == '"':
        if len(token) < 2 or token[-1] != '"':
            raise YamlSubsetError('line %d: unterminated double-quoted string' % lineno)
        body = token[1:-1]
        return re.sub(r'\\(["\\/nt])', lambda m: {'n': '\n', 't': '\t'}.get(m.group(1), m.group(1)), body)
    if token[0] == "'":
        if len(token) < 2 or token[-1] != "'":
            raise YamlSubsetError('line %d: unterminated single-quoted string' % lineno)
        return token[1:-1].replace("''", "'")
    if token == '{}':
        return {}
    if token == '[]':
        return []
    if token[0] in '{[&*!|>%@`':
        raise YamlSubsetError('line %d: %r uses YAML this parser does not support (install PyYAML)'
                              % (lineno, token))
    # YAML 1.1 booleans, as PyYAML resolves them.
    if token.lower() in ('true', 'yes', 'on') and token in (token.lower(), token.title(), token.upper()):
        return True
    if token.lower() in ('false', 'no', 'off') and token in (token.lower(), token.title(), token.upper()):
        return False
    if _INT_RE.match(token):
        return int(token)
    if _FLOAT_RE.match(token):
        return float(token)
    return token


def _strip_comment(text):
    """Drop a trailing ` # comment` outside quotes."""
    quote = None
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = None
        elif char in ('"', "'") and (index == 0 or text[index - 1] in ' :-['):
            quote = char
        elif char == '#' and (index == 0 or text[index - 1] in ' \t'):
            return text[:index].rstrip()
    return text.rstrip()


class _SubsetParser:
    def __init__(self, text):
        self.lines = []
        for lineno, raw in enumerate(text.splitlines(), 1):
            if '\t' in raw[:len(raw) - len(raw.lstrip())]:
                raise YamlSubsetError('line %d: tab used for indentation' % lineno)
            content = _strip_comment(raw)
            if not content.strip() or content.strip() in ('---', '...'):
                continue
            indent = len(content) - len(content.lstrip(' '))
            self.lines.append((indent, content.strip(), lineno))
        self.pos = 0

    def parse(self):
        if not self.lines:
            return None
        value = self._block(self.lines[0][0])
        if self.pos < len(self.lines):
            raise YamlSubsetError('line %d: unexpected indentation' % self.lines[self.pos][2])
        return value

    def _block(self, indent):
        first = self.lines[self.pos][1]
        if first == '-' or first.startswith('- '):
            return self._sequence(indent)
        if _KEY_RE.match(first):
            return self._mapping(indent)
        if self.pos == len(self.lines) - 1 and indent == self.lines[0][0]:
            self.pos += 1
            return _scalar(first, self.lines[self.pos - 1][2])
        raise YamlSubsetError('line %d: expected a mapping or a sequence' % self.lines[self.pos][2])

    def _nested(self, parent_indent, lineno, allow_same_indent_sequence=False):
        """Value on the following lines, more indented than the parent (or a same-indent list)."""
        if self.pos >= len(self.lines):
            return None
        indent, text, _lineno = self.lines[self.pos]
        if indent > parent_indent:
            return self._block(indent)
        if allow_same_indent_sequence and indent == parent_indent and (text == '-' or text.startswith('- ')):
            return self._sequence(indent)
        return None

    def _mapping(self, indent):
        result = {}
        while self.pos < len(self.lines):
            line_indent, text, lineno = self.lines[self.pos]
            if line_indent < indent:
                break
            if line_indent > indent:
                raise YamlSubsetError('line %d: unexpected indentation' % lineno)
            match = _KEY_RE.match(text)
            if not match:
                raise YamlSubsetError('line %d: expected "key: value"' % lineno)
            key = _scalar(match.group(1), lineno)
            if isinstance(key, (dict, list)):
                raise YamlSubsetError('line %d: unsupported key' % lineno)
            if key in result:
                raise YamlSubsetError('line %d: duplicate key %r' % (lineno, key))
            rest = text[match.end():].strip()
            self.pos += 1
            if rest:
                result[key] = _scalar(rest, lineno)
            else:
                result[key] = self._nested(indent, lineno, allow_same_indent_sequence=True)
        return result

    def _sequence(self, indent):
        result = []
        while self.pos < len(self.lines):
            line_indent, text, lineno = self.lines[self.pos]
            if line_indent < indent:
                break
            if line_indent > indent:
                raise YamlSubsetError('line %d: unexpected indentation' % lineno)
            if not (text == '-' or text.startswith('- ')):
                break
            rest = text[1:].strip()
            if not rest:
                self.pos += 1
                result.append(self._nested(indent, lineno))
                continue
            if _KEY_RE.match(rest):
                # "- key: value" opens a mapping whose keys sit at the column after "- ".
                item_indent = indent + (len(text) - len(rest))
                self.lines[self.pos] = (item_indent, rest, lineno)
                result.append(self._mapping(item_indent))
                continue
            if rest.startswith('- '):
                raise YamlSubsetError('line %d: nested inline sequences are not supported' % lineno)
            self.pos += 1
            result.append(_scalar(rest, lineno))
        return result
