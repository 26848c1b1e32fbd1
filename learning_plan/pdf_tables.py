"""Long tables of plain text in the portal's PDF documents, drawn and paged at a cost that grows with their rows
once rather than once a row and once a page.

reportlab's `Table` writes each line of each text cell as a PDF text object of its own, and a table split page by
page is laid out again, rows left over and all, on every page it runs onto: a report of 500 records spends most of
its time there. `TextTable` draws as `Table` does (the same positions, fonts and colours, backgrounds and rules)
but writes its text cells into one text object; `PagedTable` measures the rows once and cuts the table where each
page ends into a `TextTable` of that page, with its header rows again on top, as `Table.split` would cut it."""

from collections.abc import Callable, Sequence
from typing import Any, Final

from reportlab.lib.colors import Color
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject
from reportlab.platypus import Flowable, Table
from reportlab.platypus.tables import CellStyle

# A table's style commands for that many rows (a piece of a paged table is styled as a table of its own: zebra
# stripes start again on each page, as they do after Table.split).
StyleCommand = tuple[Any, ...]
Row = list[Any]
StyleFor = Callable[[int], list[StyleCommand]]


class _Lines(PDFTextObject):
    """A text object that encodes each distinct line once per document: in a long table the same kinds, sources
    and numbers come back on most rows, and encoding a line for a subset of a TrueType font goes character by
    character. `_formatText` (reportlab 5.1's) turns a line into its operators; what they are depends only on
    the font, its size and leading, the subset selected before and the line itself."""

    def __init__(self, canvas: Canvas, encoded: dict[tuple[Any, ...], tuple[str, int]]) -> None:
        super().__init__(canvas)
        self._encoded = encoded

    # reportlab's stubs know neither the method nor the attributes it reads and sets.
    def _formatText(self, text: str) -> str:  # noqa: N802 - reportlab's name
        subset: int = self._curSubset  # type: ignore[has-type]
        key = (self._fontname, self._fontsize, self._leading, subset, text)  # type: ignore[attr-defined]
        found = self._encoded.get(key)
        if found is None:
            code = super()._formatText(text)  # type: ignore[misc]
            found = self._encoded[key] = (code, self._curSubset)  # type: ignore[has-type]
        code, self._curSubset = found
        return code


class TextTable(Table):
    """A `Table` whose plain-text cells (strings and numbers, left or right aligned at the top of the cell, the
    lines split at "\\n" beforehand) are written into one PDF text object; other cells are drawn by `Table`.

    `encoded` is shared by the tables of one document (see `_Lines`)."""

    _text: PDFTextObject | None
    _text_font: tuple[str, float, float] | None
    _text_color: Color | None
    _text_style: Any

    def __init__(self, *args: Any, encoded: dict[tuple[Any, ...], tuple[str, int]] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._encoded = {} if encoded is None else encoded

    def draw(self) -> None:
        self._text = self._text_font = self._text_color = self._text_style = None
        super().draw()
        text = self._written()
        if text is not None:
            self.canv.saveState()
            self.canv.drawText(text)
            self.canv.restoreState()

    def _written(self) -> PDFTextObject | None:
        """The text object the cells were written into, if any was."""
        return self._text

    def _drawCell(  # noqa: N802 - reportlab's name
        self, cellval: Any, cellstyle: Any, pos: tuple[float, float], size: tuple[float, float]
    ) -> None:
        if (
            isinstance(cellval, (tuple, list, Flowable))
            or cellstyle.alignment not in ("LEFT", "RIGHT")
            or cellstyle.valign != "TOP"
            or cellstyle.href
            or cellstyle.destination
            or cellstyle.direction
            or cellstyle.shaping
        ):
            super()._drawCell(cellval, cellstyle, pos, size)  # type: ignore[misc] # not in reportlab's stubs
            return
        colpos, rowpos = pos
        colwidth, rowheight = size
        text = self._text
        if text is None:
            text = self._text = _Lines(self.canv, self._encoded)
        if cellstyle is not self._text_style:  # the rows of a PagedTable share their cells' styles
            self._text_style = cellstyle
            font = (cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
            if font != self._text_font:
                text.setFont(*font)
                self._text_font = font
            if cellstyle.color != self._text_color:
                text.setFillColor(cellstyle.color)
                self._text_color = cellstyle.color
        # Where Table._drawCell puts the lines of a top-aligned cell: the first a font size below the padding, each
        # next one a leading lower (which is what the text object's next line is).
        y = rowpos + rowheight - cellstyle.topPadding - cellstyle.fontsize
        lines = str(cellval).split("\n")
        if cellstyle.alignment == "LEFT":
            text.setTextOrigin(colpos + cellstyle.leftPadding, y)
            for line in lines:
                text.textLine(line)
            return
        right = colpos + colwidth - cellstyle.rightPadding
        for line in lines:
            text.setTextOrigin(right - stringWidth(line, cellstyle.fontname, cellstyle.fontsize), y)
            text.textOut(line)
            y -= cellstyle.leading


# Style commands kept by the table as a whole (backgrounds, spans, rules); any other command sets an attribute of
# each cell of its range.
_TABLE_COMMANDS: Final = frozenset(
    (
        "BACKGROUND",
        "ROWBACKGROUNDS",
        "COLBACKGROUNDS",
        "SPAN",
        "NOSPLIT",
        "GRID",
        "BOX",
        "OUTLINE",
        "INNERGRID",
        "LINEBELOW",
        "LINEABOVE",
        "LINEBEFORE",
        "LINEAFTER",
    )
)


class PagedTable(Flowable):
    """The rows of `data` under its first `repeat_rows` rows, repeated on every page: measured once, and cut into
    a `TextTable` a page (each laid out only with its own rows) where the frame runs out.

    `style_for(rows)` gives the style commands of a table of that many rows. The commands that style cells
    (fonts, colours, alignment, padding) must treat every row below the header alike: they are applied once, to
    the header and to one row, and those cell styles are shared by all the rows (a Table styles every cell of
    every command's range, which for hundreds of rows costs more than drawing them)."""

    def __init__(
        self,
        data: Sequence[Row],
        *,
        col_widths: Sequence[float],
        style_for: StyleFor,
        repeat_rows: int = 1,
        heights: Sequence[float] | None = None,
        cell_styles: tuple[list[list[CellStyle]], list[CellStyle]] | None = None,
        encoded: dict[tuple[Any, ...], tuple[str, int]] | None = None,
    ) -> None:
        super().__init__()
        self.hAlign = "LEFT"
        self.data = data
        self.col_widths = col_widths
        self.style_for = style_for
        self.repeat_rows = repeat_rows
        self.heights = list(heights) if heights is not None else None
        self.cell_styles = cell_styles or self._cell_styles()
        self.encoded = {} if encoded is None else encoded
        self._whole: TextTable | None = None

    def _cell_styles(self) -> tuple[list[list[CellStyle]], list[CellStyle]]:
        """The header rows' cell styles and the one every other row shares, from a table of the header and a row."""
        sample = list(self.data[: self.repeat_rows + 1])
        commands = [c for c in self.style_for(len(sample)) if c[0] not in _TABLE_COMMANDS]
        styled = Table(sample, colWidths=self.col_widths, style=commands)
        rows: list[list[CellStyle]] = styled._cellStyles  # type: ignore[attr-defined] # not in reportlab's stubs
        return rows[: self.repeat_rows], rows[-1]

    def _table(self, data: Sequence[Row], heights: Sequence[float] | None) -> TextTable:
        head, row = self.cell_styles
        table = TextTable(
            list(data),
            colWidths=self.col_widths,
            rowHeights=heights,
            repeatRows=self.repeat_rows,
            hAlign="LEFT",
            normalizedData=1,  # strings, numbers and paragraphs as they are
            cellStyles=head + [row] * (len(data) - len(head)),
            encoded=self.encoded,
        )
        table.setStyle([c for c in self.style_for(len(data)) if c[0] in _TABLE_COMMANDS])
        return table

    def _measured(self, available_width: float) -> list[float]:
        """The height of every row: the whole table laid out once, unless the table it was cut from had done it."""
        if self.heights is None:
            self._whole = self._table(self.data, None)
            self._whole.wrap(available_width, 0)  # a Table (unlike a LongTable) measures every row
            self.heights = list(self._whole._rowHeights)  # type: ignore[attr-defined] # not in reportlab's stubs
        return self.heights

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return sum(self.col_widths), sum(self._measured(available_width))

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        heights = self._measured(available_width)
        fits, used = 0, 0.0
        for height in heights:  # as Table._getFirstPossibleSplitRowPosition counts them
            if used + height > available_height:
                break
            used += height
            fits += 1
        if fits <= self.repeat_rows:
            return []  # not one row under the header: the table starts on the next page
        if fits == len(heights):
            return [self]
        head = self.repeat_rows
        return [
            self._table(self.data[:fits], heights[:fits]),
            PagedTable(
                [*self.data[:head], *self.data[fits:]],
                col_widths=self.col_widths,
                style_for=self.style_for,
                repeat_rows=head,
                heights=heights[:head] + heights[fits:],
                cell_styles=self.cell_styles,
                encoded=self.encoded,
            ),
        ]

    def draw(self) -> None:
        """The rest of the table, which fits where it is drawn (the frame split it otherwise)."""
        whole = self._whole
        if whole is None:
            whole = self._whole = self._table(self.data, self.heights)
        whole.wrapOn(self.canv, sum(self.col_widths), sum(self.heights or ()))  # the rows' positions
        whole.drawOn(self.canv, 0, 0)
