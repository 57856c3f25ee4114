#!/usr/bin/python3
"""The seed's deleted-orders report done with ReportLab, the baseline for bench/report/run.sh.

Usage: /usr/bin/python3 reportlab_report.py OBJECTS_DIR OUT.pdf

Reads OBJECTS_DIR/deleted_orders/*.json (the file object store's layout) and draws the seed's
layout: title, key metrics, a horizontal bar chart of the 15 most expensive orders, and a table
of every order (header repeated on each page, zebra rows, descriptions wrapped). It is written
the way a careful ReportLab user would: DejaVu Sans, user text escaped before it reaches a
Paragraph, exact Decimal sums, LongTable for the long table. Like any platypus document, it
builds the whole story in memory before the first page is laid out.
"""
import heapq
import json
import os
import sys
from datetime import datetime, timezone
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, TableStyle

FONT_DIR = "/usr/share/fonts/truetype/dejavu"
MAX_DESCRIPTION = 240  # about the four lines the Cairo report shows


def read_orders(objects_dir):
    orders, skipped = [], 0
    folder = os.path.join(objects_dir, "deleted_orders")
    for name in sorted(os.listdir(folder)):
        try:
            with open(os.path.join(folder, name), "rb") as f:
                o = json.loads(f.read(), parse_float=Decimal, parse_int=Decimal)
            orders.append((o["orderId"], Decimal(o["price"]), str(o["description"]), o["deletedAt"]))
        except (ValueError, KeyError, TypeError):
            skipped += 1
    return orders, skipped


def shorten(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def bar_chart(top):
    drawing = Drawing(523, 210)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 175, 5, 290, 200
    top = list(reversed(top))  # the chart draws its first category at the bottom
    chart.data = [[float(price) for _, price, _, _ in top]]
    chart.categoryAxis.categoryNames = [shorten(d, 40) for _, _, d, _ in top]
    chart.categoryAxis.labels.fontName = "DejaVu"
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.visible = False
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#3b7dd8")
    chart.barLabelFormat = lambda v: "%.2f" % v
    chart.barLabels.fontName = "DejaVu"
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def footer(canvas, doc):
    canvas.saveState()
    canvas.setFont("DejaVu", 7.5)
    canvas.drawRightString(A4[0] - 36, 24, "Page %d" % doc.page)
    canvas.restoreState()


def main(objects_dir, out_path):
    pdfmetrics.registerFont(TTFont("DejaVu", os.path.join(FONT_DIR, "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVu-Bold", os.path.join(FONT_DIR, "DejaVuSans-Bold.ttf")))
    orders, skipped = read_orders(objects_dir)
    if not orders:
        print("No deleted orders found", file=sys.stderr)
        return 1
    total = sum((price for _, price, _, _ in orders), Decimal("0"))
    top = heapq.nsmallest(15, orders, key=lambda o: (-o[1], o[0]))

    title = ParagraphStyle("title", fontName="DejaVu-Bold", fontSize=20, leading=24)
    body = ParagraphStyle("body", fontName="DejaVu", fontSize=10, leading=13)
    cell = ParagraphStyle("cell", fontName="DejaVu", fontSize=7.5, leading=8.7)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    story = [
        Paragraph("Deleted Orders Report", title),
        Paragraph("Generated " + now, body),
        Spacer(1, 8),
        Paragraph("Deleted orders: <b>%d</b>" % len(orders), body),
        Paragraph("Total revenue lost: <b>%s</b>" % total.quantize(Decimal("0.01")), body),
        Spacer(1, 8),
        Paragraph("Top %d orders by price" % len(top), body),
        bar_chart(top),
        Spacer(1, 8),
    ]
    rows = [["Order ID", "Price", "Description", "Deleted at (UTC)"]]
    for order_id, price, description, deleted_at in orders:
        rows.append([order_id, "%.2f" % price, Paragraph(escape(shorten(description, MAX_DESCRIPTION)), cell),
                     deleted_at[:19].replace("T", " ")])
    table = LongTable(rows, colWidths=[160, 60, 213, 90], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "DejaVu-Bold", 7.5),
        ("FONT", (0, 1), (-1, -1), "DejaVu", 7.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#2c3e50")),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f3f5f8")]),
        ("ALIGN", (1, 0), (1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story.append(table)
    doc = SimpleDocTemplate(out_path, pagesize=A4, leftMargin=36, rightMargin=36, topMargin=36,
                            bottomMargin=36, title="Deleted Orders Report")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    print("orders=%d skipped=%d total=%s pages=%d" % (len(orders), skipped, total, doc.page))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
