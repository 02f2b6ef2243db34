"""The importer declaration (``Importer``, its fields, the registry) and the checking of
rows for the preview and the commit: the header row found, columns mapped to fields, every
row parsed and checked, the results kept on the job. Nothing here writes a row."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext as _

from jifen.core import errors
from jifen.core.imports.readers import Problem, Row, cell_text, normalize_header
from jifen.core.models import ImportJob

HEADER_SCAN_ROWS = 20  # the header row is looked for among the first rows that hold data
PREVIEW_ROWS = 10  # good rows shown on the preview page
PREVIEW_KEEP = 100  # rows whose cells are kept while checking, to find those good rows
PROGRESS_EVERY = 500  # rows between two progress updates



# --- importer declaration ---------------------------------------------------------------


@dataclass(frozen=True)
class ImportField:
    """A column an importer understands. ``aliases`` are the header texts that map to it
    automatically (Chinese first: the first one heads the Chinese template); the field's
    name and its translated label always match too."""

    name: str
    label: Any
    aliases: tuple[str, ...] = ()
    required: bool = False
    help_text: Any = ""

    def template_header(self, language: str | None) -> str:
        if (language or "").startswith("zh") and self.aliases:
            return self.aliases[0]
        return self.name


@dataclass
class RowResult:
    """One data row after parsing and checking. ``item`` is what the importer's ``commit``
    receives; it is written only when ``problems`` is empty."""

    row: int
    cells: list[Any]
    item: Any = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, field_name: str, message: str) -> None:
        """Add a problem unless this field already has one (the first reason is the useful
        one; "unknown department" then "a department is required" is noise)."""
        if field_name and any(f == field_name for f, _m in self.problems):
            return
        if (field_name, message) not in self.problems:
            self.problems.append((field_name, message))


class Importer:
    """Subclass per kind of import; declare ``kind``, ``verbose_name``, ``fields`` and
    ``example_row``, implement ``parse`` and ``commit``."""

    kind: ClassVar[str] = ""
    verbose_name: ClassVar[Any] = ""
    fields: ClassVar[tuple[ImportField, ...]] = ()
    example_row: ClassVar[dict[str, Any]] = {}
    # The API scope a system key needs to run this import through /api/v1/imports (an
    # employee's token needs the capability the scope stands for).
    scope: ClassVar[str] = "admin"
    # False: ``commit`` manages its own transactions, one per chunk of rows, and a re-run
    # of the same file must apply only what is missing (see the module doc).
    atomic: ClassVar[bool] = True

    def field(self, name: str) -> ImportField | None:
        return next((f for f in self.fields if f.name == name), None)

    def field_label(self, name: str) -> str:
        found = self.field(name)
        return str(found.label) if found else (name or _("Row"))

    def mapping_problems(self, mapping: dict[str, int | None], columns: int) -> list[str]:
        """Why this mapping cannot be used (empty when it can)."""
        problems = []
        for f in self.fields:
            if f.required and mapping.get(f.name) is None:
                problems.append(_("Choose the column for %s.") % f.label)
        used: dict[int, str] = {}
        for name, index in mapping.items():
            if index is None:
                continue
            if not 0 <= index < columns:
                problems.append(_("The column chosen for %s does not exist.")
                                % self.field_label(name))
            elif index in used:
                problems.append(_("%(a)s and %(b)s use the same column.")
                                % {"a": self.field_label(used[index]),
                                   "b": self.field_label(name)})
            else:
                used[index] = name
        return problems

    def begin(self) -> Any:
        """Load what checking every row needs (e.g. all departments) once; the result is
        passed to ``parse`` and ``check_batch`` as ``context``."""
        return None

    def parse(self, values: dict[str, Any], context: Any) -> tuple[Any, list[Problem]]:
        """Turn one row's mapped cell values (field name → raw cell value) into an item
        and the problems found in it."""
        raise NotImplementedError

    def check_batch(self, results: list[RowResult], context: Any) -> None:
        """Checks across rows (duplicates within the file, database look-ups in bulk);
        adds problems to ``results`` in place."""

    def check_actor(self, results: list[RowResult], context: Any, actor: Any) -> None:
        """Checks that depend on who imports: ``actor`` is the user previewing (or, at the
        commit, committing; None for the system). Adds problems to ``results`` in place, so
        a row the commit would refuse for this user is a row error in the preview."""

    def commit(self, items: list[Any], *, actor: Any, job: ImportJob,
               progress: Callable[[int], None]) -> dict[str, int]:
        """Write ``items`` (every one valid). Runs inside one transaction; returns counts
        for the result page (e.g. {"created": 3, "updated": 1})."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Importer]] = {}


def register(importer: type[Importer]) -> type[Importer]:
    """Class decorator: make an importer reachable by its ``kind``."""
    if not importer.kind:
        raise ValueError(f"{importer.__name__} has no kind")
    _REGISTRY[importer.kind] = importer
    return importer


def registered_importers() -> list[Importer]:
    """One of every registered importer, by kind."""
    autodiscover_modules("imports")
    return [_REGISTRY[kind]() for kind in sorted(_REGISTRY)]


def get_importer(kind: str) -> Importer:
    if kind not in _REGISTRY:
        # A worker process has not imported the apps' importers yet.
        autodiscover_modules("imports")
    if kind not in _REGISTRY:
        raise errors.NotFound(_("Unknown kind of import: %s") % kind,
                              code=errors.ErrorCode.UNKNOWN_IMPORT)
    return _REGISTRY[kind]()


def header_keys(importer: Importer) -> dict[str, str]:
    """Normalized header text → field name."""
    keys: dict[str, str] = {}
    for f in importer.fields:
        for text in (f.name, str(f.label), *f.aliases):
            keys.setdefault(normalize_header(text), f.name)
    return keys


def detect_header(rows: list[Row], importer: Importer) -> int:
    """Index (in ``rows``) of the header row: among the first rows, the one naming the most
    fields; the first row when none names any."""
    keys = header_keys(importer)
    best, best_score = 0, 0
    for index, (_number, cells) in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = len({keys[k] for k in map(normalize_header, cells) if k in keys})
        if score > best_score:
            best, best_score = index, score
    return best


def auto_mapping(headers: list[str], importer: Importer) -> dict[str, int | None]:
    keys = header_keys(importer)
    mapping: dict[str, int | None] = {f.name: None for f in importer.fields}
    for index, header in enumerate(headers):
        name = keys.get(normalize_header(header))
        if name and mapping[name] is None:
            mapping[name] = index
    return mapping

# --- checking rows ----------------------------------------------------------------------


def validate_rows(
    importer: Importer,
    rows: Iterable[Row],
    mapping: dict[str, int | None],
    *,
    actor: Any,
    on_progress: Callable[[int], None] | None = None,
) -> list[RowResult]:
    """Parse and check every data row, for ``actor`` (who previews or commits); nothing
    is written. The rows may be a stream: only the cells of the first valid rows are kept
    (for the preview), the rest go once parsed."""
    context = importer.begin()
    columns = [(name, index) for name, index in mapping.items() if index is not None]
    results = []
    kept = 0
    for count, (number, cells) in enumerate(rows, start=1):
        values = {name: cells[index] if index < len(cells) else None for name, index in columns}
        item, problems = importer.parse(values, context)
        result = RowResult(row=number, cells=cells, item=item)
        for field_name, message in problems:
            result.add(field_name, message)
        if result.ok and kept < PREVIEW_KEEP:
            kept += 1
        else:
            result.cells = []
        results.append(result)
        if on_progress and count % PROGRESS_EVERY == 0:
            on_progress(count)
    importer.check_batch(results, context)
    importer.check_actor(results, context, actor)
    return results


def apply_results(job: ImportJob, importer: Importer, results: list[RowResult] | None,
                  total: int) -> None:
    job.total_rows = total
    if results is None:  # the mapping is incomplete: nothing could be checked
        job.valid_rows = job.error_count = 0
        job.error_rows, job.preview_rows = [], []
        return
    job.error_rows = [
        {"row": r.row, "field": f, "message": m} for r in results for f, m in r.problems
    ]
    job.error_count = sum(1 for r in results if r.problems)
    job.valid_rows = total - job.error_count
    mapped = [job.mapping[name] for name in mapped_fields(importer, job.mapping)]
    job.preview_rows = [
        {"row": r.row, "values": [cell_text(r.cells[i]) if i < len(r.cells) else ""
                                  for i in mapped]}
        for r in results if r.ok and r.cells
    ][:PREVIEW_ROWS]


def mapped_fields(importer: Importer, mapping: dict[str, int | None]) -> list[str]:
    """The importer's fields that have a column, in the importer's order (a JSON column may
    not keep the mapping's key order)."""
    return [f.name for f in importer.fields if mapping.get(f.name) is not None]

