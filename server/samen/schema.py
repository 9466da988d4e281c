"""The structure of a form, read from its XForm: what every export is laid out by.

Pure functions, no I/O:

- `parse_form_schema(xform: bytes) -> FormSchema` reads one form version.
- `merge_schemas(schemas) -> FormSchema` merges every published version (oldest
  first) so that a field removed in a later version keeps its column for the
  rows that were submitted with it.

A `FormSchema` holds the form id, version, title, its label languages (the
default first) and every field in document order. A `Field` is a question
(`kind="field"`), a group or a repeat, addressed by its path of element names
below the instance root, e.g. ``("household", "members", "age")``. Labels are
``{language: text}``; a label written without itext is stored under the
language ``""`` (see `FormSchema.text`).

Paths, like the instance XML they address, are namespace-free: Collect and
Enketo disagree about namespaces (`orx:meta` vs `meta`), ODK Central ignores
them, and so do we.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field as dataclass_field, replace

from lxml import etree

from samen.problems import InvalidFormError
from samen.safexml import child, children, local_name, parse_xml

Path = tuple[str, ...]

NO_LANGUAGE = ""  # key of a label written inline, without itext

_ITEXT_LITERAL = re.compile(r"""^\s*jr:itext\(\s*['"](?P<id>[^'"]+)['"]\s*\)\s*$""")
_ITEXT_CHILD = re.compile(r"""^\s*jr:itext\(\s*(?P<child>[\w.:-]+)\s*\)\s*$""")
_INSTANCE_CALL = re.compile(r"""instance\(\s*['"](?P<id>[^'"]+)['"]\s*\)(?P<rest>[^\[]*)""")
_CONTROLS = {"input", "select1", "select", "upload", "trigger", "range", "rank", "secret"}
# XForms bind types as written by pyxform, Collect's older forms and hand-written XML.
_TYPE_ALIASES = {"integer": "int", "long": "int", "short": "int", "float": "decimal", "double": "decimal"}


@dataclass(frozen=True)
class Choice:
    """One option of a select: the value stored in submissions and its labels."""

    value: str
    labels: Mapping[str, str] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    """A question, group or repeat of the form."""

    path: Path
    kind: str  # "field", "group" or "repeat"
    type: str  # bind type for fields ("string", "int", "select1", "select", "geopoint", ...); kind for containers
    labels: Mapping[str, str] = dataclass_field(default_factory=dict)
    choices: tuple[Choice, ...] = ()
    repeat: Path = ()  # the repeat this belongs to (its table); () for the submission itself
    choices_file: str | None = None  # select_one_from_file & co.: choices live in a form attachment, unknown here
    removed: bool = False  # only in older versions of the form (set by merge_schemas)

    @property
    def name(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class FormSchema:
    """One form's structure: fields in document order, languages with the default first."""

    form_id: str
    version: str
    title: str
    languages: tuple[str, ...]
    fields: tuple[Field, ...]

    def text(self, labels: Mapping[str, str], language: str | None = None) -> str | None:
        """The label in `language` (None: the form's default), else the closest one there is."""
        preferred = language if language is not None else (self.languages[0] if self.languages else NO_LANGUAGE)
        for candidate in (preferred, NO_LANGUAGE, *self.languages):
            if labels.get(candidate):
                return labels[candidate]
        return next(iter(labels.values()), None)

    @property
    def repeats(self) -> tuple[Field, ...]:
        return tuple(item for item in self.fields if item.kind == "repeat")


def parse_form_schema(xform: bytes) -> FormSchema:
    """Read the structure of one XForm version, or raise InvalidFormError saying what is missing."""
    html = parse_xml(xform)
    head = child(html, "head")
    model = child(head, "model") if head is not None else None
    instance = child(model, "instance") if model is not None else None
    root = next((item for item in instance if isinstance(item.tag, str)), None) if instance is not None else None
    if root is None:
        raise InvalidFormError("The form has no primary instance: h:head/model/instance must contain the data element.")
    form_id = root.get("id")
    if not form_id:
        raise InvalidFormError("The form's data element has no id attribute; set form_id in the XLSForm settings.")
    title_element = child(head, "title")
    root_name = local_name(root)

    bind_types = _bind_types(model, root_name)
    translations, languages = _itext(model)
    controls = _body_controls(child(html, "body"), root_name, translations, _secondary_instances(model))

    fields: list[Field] = []
    _walk_instance(root, (), (), bind_types, controls, fields)
    return FormSchema(
        form_id=form_id,
        version=root.get("version") or "",
        title="".join(title_element.itertext()).strip() if title_element is not None else form_id,
        languages=languages,
        fields=tuple(fields),
    )


def merge_schemas(schemas: Iterable[FormSchema]) -> FormSchema:
    """Merge form versions given oldest first: the newest layout, plus removed fields near their old place.

    A removed field is inserted after the field that preceded it in the newest
    older version that had it, and is marked `removed`. Labels and choices come
    from the newest version that has them; choices only older versions offered
    are kept, since old rows still carry those values.
    """
    ordered = list(schemas)
    if not ordered:
        raise ValueError("merge_schemas needs at least one form version.")
    newest = ordered[-1]
    merged: list[Field] = list(newest.fields)
    index = {item.path: position for position, item in enumerate(merged)}
    languages = list(newest.languages)
    for older in reversed(ordered[:-1]):
        languages += [language for language in older.languages if language not in languages]
        previous: Path | None = None
        for old in older.fields:
            if old.path in index:
                current = merged[index[old.path]]
                merged[index[old.path]] = _with_older_choices(current, old)
            elif _can_hold(old.path[:-1], index, merged):
                position = _insert_position(old.path, previous, index, merged)
                merged.insert(position, replace(old, removed=True))
                index = {item.path: at for at, item in enumerate(merged)}
            previous = old.path if old.path in index else previous
    return replace(newest, languages=tuple(languages), fields=_with_repeats(merged))


def _walk_instance(
    element: etree._Element,
    parent: Path,
    repeat: Path,
    bind_types: Mapping[Path, str],
    controls: Mapping[Path, _Control],
    out: list[Field],
) -> None:
    seen: set[Path] = set()
    for node in element:
        if not isinstance(node.tag, str):
            continue
        path = (*parent, local_name(node))
        if path in seen:  # a repeat's template and its default instances share one path
            continue
        seen.add(path)
        control = controls.get(path)
        has_children = any(isinstance(item.tag, str) for item in node)
        if control is not None and control.tag == "repeat":
            out.append(Field(path, "repeat", "repeat", control.labels, repeat=repeat))
            _walk_instance(node, path, path, bind_types, controls, out)
        elif (control is not None and control.tag == "group") or (has_children and path not in bind_types):
            labels = control.labels if control is not None else {}
            out.append(Field(path, "group", "group", labels, repeat=repeat))
            _walk_instance(node, path, repeat, bind_types, controls, out)
        else:
            out.append(_question(path, repeat, bind_types.get(path, "string"), control))


def _question(path: Path, repeat: Path, bind_type: str, control: _Control | None) -> Field:
    if control is None:
        return Field(path, "field", bind_type, repeat=repeat)
    # select_multiple binds as "string": only the body control says it is a select.
    data_type = control.tag if control.tag in ("select1", "select", "rank") else bind_type
    return Field(path, "field", data_type, control.labels, control.choices, repeat, control.choices_file)


def _bind_types(model: etree._Element, root_name: str) -> dict[Path, str]:
    types: dict[Path, str] = {}
    for bind in children(model, "bind"):
        # binds without a type only add logic (relevant, required) and may sit on a group
        nodeset, bind_type = bind.get("nodeset"), (bind.get("type") or "").split(":")[-1]
        if nodeset and bind_type:
            types[_instance_path(nodeset, (), root_name)] = _TYPE_ALIASES.get(bind_type, bind_type)
    return types


def _instance_path(reference: str, context: Path, root_name: str) -> Path:
    """An XPath reference as a path below the instance root; relative ones resolve against `context`."""
    steps = tuple(step.split(":")[-1] for step in reference.strip().split("/") if step)
    if reference.strip().startswith("/"):
        return steps[1:] if steps and steps[0] == root_name else steps
    resolved = list(context)
    for step in steps:
        if step == "..":
            resolved = resolved[:-1]
        elif step != ".":
            resolved.append(step)
    return tuple(resolved)


def _itext(model: etree._Element) -> tuple[dict[str, dict[str, str]], tuple[str, ...]]:
    """Translations as {text id: {language: text}} and the languages, default first."""
    itext = child(model, "itext")
    translations: dict[str, dict[str, str]] = {}
    languages: list[str] = []
    if itext is None:
        return translations, ()
    for translation in children(itext, "translation"):
        language = translation.get("lang") or NO_LANGUAGE
        if translation.get("default", "").startswith("true"):
            languages.insert(0, language)
        else:
            languages.append(language)
        for text in children(translation, "text"):
            # <value form="image"> and friends name media files; the plain value is the label.
            plain = next((value for value in children(text, "value") if value.get("form") is None), None)
            if plain is not None and text.get("id"):
                translations.setdefault(text.get("id"), {})[language] = _render_text(plain)
    return translations, tuple(languages)


def _render_text(element: etree._Element) -> str:
    """Text content, with <output value="/data/x"/> shown as ${x} as in the XLSForm."""
    parts = [element.text or ""]
    for item in element:
        if isinstance(item.tag, str) and local_name(item) == "output":
            parts.append("${" + (item.get("value") or "").rstrip("/").split("/")[-1] + "}")
        elif isinstance(item.tag, str):
            parts.append(_render_text(item))
        parts.append(item.tail or "")
    return "".join(parts).strip()


def _secondary_instances(model: etree._Element) -> dict[str, etree._Element]:
    return {instance.get("id"): instance for instance in children(model, "instance") if instance.get("id")}


@dataclass(frozen=True)
class _Control:
    tag: str
    labels: Mapping[str, str]
    choices: tuple[Choice, ...] = ()
    choices_file: str | None = None


def _body_controls(
    body: etree._Element | None,
    root_name: str,
    translations: Mapping[str, Mapping[str, str]],
    instances: Mapping[str, etree._Element],
) -> dict[Path, _Control]:
    controls: dict[Path, _Control] = {}
    if body is None:
        return controls

    def visit(element: etree._Element, context: Path) -> None:
        for node in element:
            if not isinstance(node.tag, str):
                continue
            tag = local_name(node)
            reference = node.get("nodeset") if tag == "repeat" else node.get("ref")
            path = _instance_path(reference, context, root_name) if reference else context
            if tag in ("group", "repeat"):
                labels = _labels(node, translations)
                if tag == "repeat" and not labels and path in controls:
                    labels = controls[path].labels  # pyxform labels the group that wraps the repeat
                if reference:
                    controls[path] = _Control(tag, labels)
                visit(node, path)
            elif tag in _CONTROLS and reference:
                choices, choices_file = _choices(node, translations, instances)
                controls[path] = _Control(tag, _labels(node, translations), choices, choices_file)

    visit(body, ())
    return controls


def _labels(control: etree._Element, translations: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    label = child(control, "label")
    if label is None:
        return {}
    match = _ITEXT_LITERAL.match(label.get("ref") or "")
    if match:
        return dict(translations.get(match["id"], {}))
    text = _render_text(label)
    return {NO_LANGUAGE: text} if text else {}


def _choices(
    control: etree._Element,
    translations: Mapping[str, Mapping[str, str]],
    instances: Mapping[str, etree._Element],
) -> tuple[tuple[Choice, ...], str | None]:
    inline = tuple(
        Choice(_render_text(value), _labels(item, translations))
        for item in children(control, "item")
        if (value := child(item, "value")) is not None
    )
    itemset = child(control, "itemset")
    if itemset is None:
        return inline, None
    match = _INSTANCE_CALL.search(itemset.get("nodeset") or "")
    source = instances.get(match["id"]) if match else None
    if source is None:
        return inline, None
    if source.get("src"):
        return (), source.get("src").rsplit("/", 1)[-1]
    value_element, label_element = child(itemset, "value"), child(itemset, "label")
    value_child = value_element.get("ref", "name") if value_element is not None else "name"
    label_ref = label_element.get("ref", "label") if label_element is not None else "label"
    itext_child = _ITEXT_CHILD.match(label_ref)
    steps = [step for step in match["rest"].split("/") if step]
    items = [source]
    for step in steps:
        items = [node for parent in items for node in children(parent, step)]
    choices = []
    for item in items:
        value = child(item, value_child)
        if value is None:
            continue
        if itext_child:
            text_id = child(item, itext_child["child"])
            labels = dict(translations.get(text_id.text or "", {})) if text_id is not None else {}
        else:
            label = child(item, label_ref)
            labels = {NO_LANGUAGE: _render_text(label)} if label is not None else {}
        choices.append(Choice((value.text or "").strip(), labels))
    return tuple(choices), None


def _with_older_choices(current: Field, old: Field) -> Field:
    known = {choice.value for choice in current.choices}
    extra = tuple(choice for choice in old.choices if choice.value not in known)
    labels = current.labels or old.labels
    if not extra and labels is current.labels:
        return current
    return replace(current, choices=current.choices + extra, labels=labels)


def _can_hold(parent: Path, index: Mapping[Path, int], merged: list[Field]) -> bool:
    """Whether a removed field's parent still exists as a group or repeat (or is the root)."""
    return not parent or (parent in index and merged[index[parent]].kind != "field")


def _insert_position(path: Path, previous: Path | None, index: Mapping[Path, int], merged: list[Field]) -> int:
    parent = path[:-1]
    if previous is not None and previous[: len(parent)] == parent and previous != parent:
        sibling = previous[: len(parent) + 1]
        # after the preceding sibling's whole subtree, not inside it
        position = index[sibling] + 1
        while position < len(merged) and merged[position].path[: len(sibling)] == sibling:
            position += 1
        return position
    return index[parent] + 1 if parent else 0


def _with_repeats(fields: list[Field]) -> tuple[Field, ...]:
    """Recompute each field's repeat from the merged containers: a group may have become a repeat."""
    repeats = {item.path for item in fields if item.kind == "repeat"}
    result = []
    for item in fields:
        enclosing = next((item.path[:depth] for depth in range(len(item.path) - 1, 0, -1) if item.path[:depth] in repeats), ())
        result.append(item if item.repeat == enclosing else replace(item, repeat=enclosing))
    return tuple(result)
