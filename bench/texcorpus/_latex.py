"""LaTeX sources for the corpus papers, one template per layout, written for this project (CC0 1.0).

Layouts (Debian's TeX Live 2022 classes): ``ieee`` IEEEtran two-column conference, ``acm`` acmart sigconf (two
columns; Linux Libertine is not installed by Debian's texlive-fonts-recommended, so acmart falls back to Computer
Modern; we load Palatino instead), ``lncs`` Springer's llncs (one column, running heads), ``neurips`` a one-column article
set like a NeurIPS preprint (Times, 5.5 in text width, title between rules, "Preprint. Under review." footer).

Every renderer returns the LaTeX source and, beside it, the plain text of what it prints (citations as their
numbers, footnote marks as digits), which becomes the ground truth.
"""
from __future__ import annotations

import re
from typing import Any

from ._content import Citation, Paper, Work, printed_heading

_TEX_ESCAPES = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                "–": "--", "—": "---", "“": "``", "”": "''", "’": "'"}
_ESC_RE = re.compile("|".join(re.escape(k) for k in _TEX_ESCAPES))


def tex_escape(text: str) -> str:
    return _ESC_RE.sub(lambda m: _TEX_ESCAPES[m.group()], text)


# --- reference entries --------------------------------------------------------------------------------------------


def _initials(name: str) -> str:
    parts = name.split()
    given = " ".join(p if p.endswith(".") else p[0] + "." for p in parts[:-1])
    given = "-".join(g[0] + "." for g in given.split("-")) if "-" in parts[0] and len(parts) > 1 else given
    return f"{given} {parts[-1]}".strip()


def _lncs_name(name: str) -> str:
    parts = name.split()
    return f"{parts[-1]}, {''.join(p if p.endswith('.') else p[0] + '.' for p in parts[:-1])}"


def _and_list(names: list[str], oxford: bool = True) -> str:
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return ", ".join(names[:-1]) + ("," if oxford else "") + f" and {names[-1]}"


def _sentence_case(title: str) -> str:
    words = title.split()
    out = [words[0]]
    for w in words[1:]:
        out.append(w if (w[:1].isupper() and (sum(c.isupper() for c in w) > 1 or w.endswith(":"))) else w.lower())
    return " ".join(out).replace(": ", ": ")


def format_reference(c: Citation, style: str, variant: int) -> tuple[str, str]:
    """(plain text, LaTeX) of one reference entry in ``style`` (the layout); ``variant`` varies the form."""
    w: Work = c.work
    arx = c.mention == "arxiv" and w.arxiv_id
    doi = c.mention == "doi" and w.doi
    pages = w.pages
    segs: list[tuple[str, str]] = []  # (plain, kind) kind: "" plain, "it" italic, "url"
    if style == "ieee":
        names = [_initials(a) for a in w.authors]
        if len(names) > 4 and variant % 2:
            names = [names[0]]
            who = f"{names[0]} et al."
        else:
            who = _and_list(names)
        title = _sentence_case(w.title) if variant % 3 else w.title
        segs.append((f"{who}, “{title},” ", ""))
        if arx and w.venue == "arXiv":
            segs.append((f"arXiv preprint arXiv:{w.arxiv_id}, {w.year}.", ""))
        else:
            segs.append((f"in Proc. {w.venue}" if w.venue not in ("Tech. Report", "ACM Computing Surveys")
                         else w.venue, "it"))
            segs.append((f", {w.year}" + (f", pp. {pages}" if pages else "") + ".", ""))
            if arx:
                segs.append((f" [Online]. Available: arXiv:{w.arxiv_id}", ""))
        if doi:
            segs.append((f" doi: {w.doi}.", ""))
    elif style == "acm":
        segs.append((f"{_and_list(w.authors)}. {w.year}. {w.title}. ", ""))
        if w.venue == "arXiv":
            segs.append(("arXiv preprint", "it"))
            segs.append((f" (April {w.year}). ", ""))
        else:
            segs.append(("In ", ""))
            segs.append((f"Proceedings of {w.venue}" if variant % 2 else w.venue, "it"))
            segs.append((". " + (f"{pages}. " if pages else ""), ""))
        if arx:
            segs.append((f"arXiv:{w.arxiv_id}" if variant % 2 else f"https://arxiv.org/abs/{w.arxiv_id}",
                         "" if variant % 2 else "url"))
        if doi:
            segs.append((f"https://doi.org/{w.doi}", "url"))
    elif style == "lncs":
        names = [_lncs_name(a) for a in w.authors]
        who = ", ".join(names[:3]) + ", et al." if len(names) > 4 else ", ".join(names)
        title = _sentence_case(w.title)
        if arx and (w.venue == "arXiv" or variant % 2):
            segs.append((f"{who}: {title}. arXiv preprint arXiv:{w.arxiv_id} ({w.year})", ""))
        else:
            segs.append((f"{who}: {title}. In: {w.venue}." + (f" pp. {pages}" if pages else "") + f" ({w.year})",
                         ""))
        if doi:
            segs.append((f", https://doi.org/{w.doi}", "url"))
    else:  # neurips (plainnat-like)
        segs.append((f"{_and_list(w.authors, oxford=True)}. {w.title}. ", ""))
        if arx and w.venue == "arXiv":
            segs.append((f"arXiv preprint arXiv:{w.arxiv_id}, {w.year}.", ""))
        else:
            segs.append((f"In ", ""))
            segs.append((f"{w.venue}", "it"))
            segs.append(((f", pages {pages}" if pages else "") + f", {w.year}.", ""))
            if arx:
                segs.append((f" URL https://arxiv.org/abs/{w.arxiv_id}." if variant % 2
                             else f" CoRR abs/{w.arxiv_id}.", "url" if variant % 2 else ""))
        if doi:
            segs.append((f" doi: {w.doi}.", ""))
    plain = "".join(s for s, _ in segs)
    tex = ""
    for s, kind in segs:
        if kind == "it":
            tex += r"\emph{" + tex_escape(s) + "}"
        elif kind == "url":
            lead = s[: len(s) - len(s.lstrip())]
            body = s.strip()
            trail = "." if body.endswith(".") else ""
            body = body[:-1] if trail else body
            pre = body[: body.index("http")] if "http" in body else ""
            tex += tex_escape(lead + pre) + r"\url{" + body[len(pre):] + "}" + trail
        else:
            tex += tex_escape(s)
    return " ".join(plain.split()), tex


# --- body -----------------------------------------------------------------------------------------------------------


_MARK = re.compile("\x00(cite|fn):([^\x00]*)\x00")


def render_paragraph(text: str, fn_counter: list[int], cite_label: Any) -> tuple[str, str, list[str]]:
    """(plain, LaTeX, footnote texts) of a paragraph with citation and footnote marks."""
    plain, tex, notes = "", "", []
    pos = 0
    for m in _MARK.finditer(text):
        plain += text[pos:m.start()]
        tex += tex_escape(text[pos:m.start()])
        if m.group(1) == "cite":
            j = int(m.group(2))
            plain += f"[{cite_label(j)}]"
            tex += f"[{cite_label(j)}]"  # literal: one pdflatex run is enough
        else:
            fn_counter[0] += 1
            plain += str(fn_counter[0])
            tex += rf"\footnote{{{tex_escape(m.group(2))}}}"
            notes.append(f"{fn_counter[0]} {m.group(2)}")
        pos = m.end()
    plain += text[pos:]
    tex += tex_escape(text[pos:])
    return plain, tex, notes


def _figure(paper: Paper, wide: bool) -> tuple[str, str, list[str]]:
    m = paper.method
    caption = (f"Accuracy against measured latency. Each dot is one model of the family; the curve of "
               f"{m} stays above the baselines at every budget.")
    env = "figure*" if wide else "figure"
    unit = r"0.006\textwidth" if wide else r"0.01\columnwidth"
    labels = ["latency (ms)", "top-1 (%)", "ours", "baseline"]
    tex = rf"""\begin{{{env}}}[t]
\centering
\setlength{{\unitlength}}{{{unit}}}
\begin{{picture}}(90,42)
\put(8,6){{\vector(1,0){{78}}}}\put(8,6){{\vector(0,1){{34}}}}
\put(47,1){{\makebox(0,0){{\scriptsize {labels[0]}}}}}
\put(3,23){{\rotatebox{{90}}{{\makebox(0,0){{\scriptsize top-1 (\%)}}}}}}
\multiput(14,12)(13,5){{5}}{{\circle*{{1.6}}}}
\multiput(14,9)(13,3){{5}}{{\circle{{1.6}}}}
\put(72,36){{\scriptsize {labels[2]}}}\put(72,20){{\scriptsize {labels[3]}}}
\end{{picture}}
\caption{{{tex_escape(caption)}}}
\label{{fig:main}}
\end{{{env}}}
"""
    return tex, caption, labels


def _table(rows: list[list[str]], ieee: bool) -> tuple[str, str, list[str]]:
    caption = "Ablation on ImageNet: accuracy, cost and latency on one CPU core."
    body = " \\\\\n".join(" & ".join(tex_escape(c) for c in r) for r in rows)
    first, rest = body.split(" \\\\\n", 1)
    tex = rf"""\begin{{table}}[t]
\caption{{{tex_escape(caption)}}}
\label{{tab:main}}
\centering
\footnotesize
\begin{{tabular}}{{lccc}}
\hline
{first} \\
\hline
{rest} \\
\hline
\end{{tabular}}
\end{{table}}
"""
    return tex, caption, [" ".join(r) for r in rows]


# --- whole papers ---------------------------------------------------------------------------------------------------

_STAMP = r"""\AddToShipoutPictureBG*{\AtPageLowerLeft{\put(\LenToUnit{%(x)s},\LenToUnit{0.5\paperheight}){%%
\rotatebox{90}{\makebox[0pt][c]{\fontsize{20}{20}\usefont{T1}{ptm}{m}{n}\color[gray]{0.5}%%
%(text)s}}}}}
"""

_PREAMBLE = {
    "ieee": r"""\documentclass[conference]{IEEEtran}
\usepackage[T1]{fontenc}
\usepackage{amsmath,graphicx,xcolor,eso-pic,url,fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\renewcommand{\headrulewidth}{0pt}
\fancyhead[C]{\footnotesize %(venue_line)s}
\fancyfoot[C]{\footnotesize \thepage}
\setlength{\headheight}{12pt}
""",
    "acm": r"""\PassOptionsToPackage{expansion=false}{microtype}
\documentclass[sigconf,nonacm]{acmart}
\usepackage[T1]{fontenc}
\usepackage{mathpazo,helvet,courier}
\usepackage{eso-pic}
\settopmatter{printfolios=true,printacmref=false}
\setcopyright{none}
\acmConference[%(venue)s '%(yy)s]{%(venue_line)s}{%(year)s}{}
""",
    "lncs": r"""\documentclass[runningheads]{llncs}
\usepackage{amsmath,graphicx,xcolor,eso-pic,url}
""",
    "neurips": r"""\documentclass[10pt]{article}
\usepackage[T1]{fontenc}
\usepackage{times}
\usepackage[letterpaper,textwidth=5.5in,textheight=9in,top=1in]{geometry}
\usepackage{amsmath,graphicx,xcolor,eso-pic,url,fancyhdr}
\pagestyle{fancy}
\fancyhf{}
\renewcommand{\headrulewidth}{0pt}
\fancyfoot[C]{\thepage}
\fancypagestyle{first}{\fancyhf{}\fancyfoot[L]{\small Preprint. Under review.}\fancyfoot[C]{\thepage}}
\setlength{\parindent}{0pt}
\setlength{\parskip}{5.5pt}
""",
}


def _title_block(paper: Paper) -> str:
    w = paper.work
    t = tex_escape(w.title)
    aff = paper.affiliations
    if paper.layout == "ieee":
        blocks = []
        for i, a in enumerate(w.authors):
            blocks.append(rf"\IEEEauthorblockN{{{tex_escape(a)}}}" "\n"
                          rf"\IEEEauthorblockA{{{tex_escape(aff[i % len(aff)])}}}")
        return (rf"\title{{{t}}}" "\n" r"\author{" + "\n\\and\n".join(blocks) + "}\n"
                r"\begin{document}" "\n" r"\maketitle" "\n" r"\thispagestyle{fancy}" "\n")
    if paper.layout == "acm":
        out = rf"\title{{{t}}}" "\n"
        for i, a in enumerate(w.authors):
            out += (rf"\author{{{tex_escape(a)}}}" "\n"
                    rf"\affiliation{{\institution{{{tex_escape(aff[i % len(aff)])}}}\country{{}}}}" "\n")
        return out + "%(abstract)s\n" r"\begin{document}" "\n" r"\maketitle" "\n"
    if paper.layout == "lncs":
        short = w.authors[0].split()[0][0] + ". " + w.authors[0].split()[-1] + (" et al." if len(w.authors) > 1
                                                                                  else "")
        inst = r" \and ".join(tex_escape(a) for a in aff)
        names = r" \and ".join(tex_escape(a) + rf"\inst{{{i % len(aff) + 1}}}" for i, a in enumerate(w.authors))
        return (r"\begin{document}" "\n" rf"\title{{{t}}}" "\n" rf"\titlerunning{{{t}}}" "\n"
                rf"\author{{{names}}}" "\n" rf"\authorrunning{{{tex_escape(short)}}}" "\n"
                rf"\institute{{{inst}}}" "\n" r"\maketitle" "\n")
    # neurips
    cells = []
    for i, a in enumerate(w.authors):
        cells.append(r"\begin{tabular}[t]{c}\bfseries " + tex_escape(a) + r"\\ " + tex_escape(aff[i % len(aff)])
                     + r"\end{tabular}")
    return (r"\begin{document}" "\n" r"\thispagestyle{first}" "\n" r"\begin{center}" "\n"
            r"\rule{\textwidth}{4pt}\\[0.2in]" "\n" rf"{{\LARGE\bfseries {t}\par}}" "\n"
            r"\vspace{0.15in}\rule{\textwidth}{1pt}\\[0.25in]" "\n"
            + r" \hspace{1.5em} ".join(cells) + "\n" r"\end{center}" "\n" r"\vspace{0.2in}" "\n")


def _abstract(paper: Paper) -> str:
    a = tex_escape(paper.abstract)
    if paper.layout == "neurips":
        return (r"\begin{center}{\large\bfseries Abstract}\end{center}" "\n" r"\begin{quote}" "\n"
                + a + "\n" r"\end{quote}" "\n")
    return r"\begin{abstract}" "\n" + a + "\n" r"\end{abstract}" "\n"


def render(paper: Paper) -> tuple[str, dict[str, Any]]:
    """(LaTeX source, ground-truth pieces: paragraphs, headings, captions, footnotes, references)."""
    w = paper.work
    layout = paper.layout
    venue_line = {"ieee": f"Accepted at the {w.year} IEEE International Conference on Image Processing (ICIP)",
                  "acm": f"Proceedings of the {w.year} ACM Conference on Multimedia",
                  "lncs": "", "neurips": ""}[layout]
    pre = _PREAMBLE[layout] % {"venue": w.venue, "yy": str(w.year)[2:], "year": w.year, "venue_line": venue_line}
    stamp_text = None
    if paper.stamp and w.arxiv_id:
        day = 1 + int(w.arxiv_id[-2:]) % 28
        month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
            int(w.arxiv_id[2:4]) - 1]
        stamp_text = f"arXiv:{w.arxiv_id}v1 [{paper.category}] {day} {month} {w.year}"
        x = {"ieee": "14pt", "acm": "16pt", "lncs": "34pt", "neurips": "34pt"}[layout]
        pre += _STAMP % {"x": x, "text": stamp_text.replace("[", "{[}").replace("]", "{]}").replace(" ", r"\ ")}
    pre += r"\makeatletter\AtBeginDocument{\write\@auxout{\string\gdef\string\textblock{\the\topmargin,"
    pre += r"\the\headheight,\the\headsep,\the\textheight,\the\voffset}}}\makeatother" "\n"
    head = _title_block(paper)
    if layout == "acm":
        head = head.replace("%(abstract)s", _abstract(paper))
        body = head
    else:
        body = head + _abstract(paper)
    fn = [0]
    order = list(range(len(paper.refs)))  # citation j is entry j (numbered j + 1)
    cite_label = lambda j: str(order.index(j) + 1)  # noqa: E731
    paragraphs: list[dict[str, str]] = [{"section": "", "text": paper.abstract}]
    headings: list[str] = []
    captions: list[str] = []
    footnotes: list[str] = []
    other: list[str] = []
    section = ""
    fig_done = False
    for kind, val in paper.blocks:
        if kind == "heading":
            if val[0] == 1:
                _, s, title = val
                section = printed_heading(layout, s, None, title)
                body += rf"\section{{{tex_escape(title)}}}" "\n"
            else:
                _, s, j, title = val
                section = printed_heading(layout, s, j, title)
                body += rf"\subsection{{{tex_escape(title)}}}" "\n"
            headings.append(section)
        elif kind == "para":
            plain, tex, notes = render_paragraph(val, fn, cite_label)
            body += tex + "\n\n"
            paragraphs.append({"section": section, "text": plain})
            footnotes += notes
        elif kind == "equation":
            body += r"\begin{equation}" "\n" + val + "\n" r"\end{equation}" "\n"
            other.append(val)
        elif kind == "table":
            tex, cap, cells = _table(val, layout == "ieee")
            body += tex
            captions.append(cap)
            other += cells
        elif kind == "figure" and not fig_done:
            tex, cap, labels = _figure(paper, wide=layout in ("ieee", "acm") and paper.work.year % 2 == 0)
            body += tex
            captions.append(cap)
            other += labels
            fig_done = True
    refs = []
    entries = ""
    for j, c in enumerate(paper.refs):
        plain, tex = format_reference(c, layout, j + len(paper.key))
        entries += rf"\bibitem{{r{j}}}" + (r"\label{refstart}" if j == 0 else "") + " " + tex + "\n"
        refs.append({"number": j + 1, "text": plain, "cites": c.work.key,
                     "arxiv_id": c.work.arxiv_id if c.mention == "arxiv" else None,
                     "doi": c.work.doi if c.mention == "doi" else None,
                     "title": c.work.title, "authors": c.work.authors, "year": c.work.year})
    width = "99"
    body += rf"\begin{{thebibliography}}{{{width}}}" "\n" + entries + r"\end{thebibliography}" "\n"
    body += r"\end{document}" "\n"
    ref_heading = {"ieee": "REFERENCES", "acm": "REFERENCES", "lncs": "References", "neurips": "References"}[layout]
    truth = {"paragraphs": paragraphs, "headings": headings, "captions": captions, "footnotes": footnotes,
             "other": other, "references": refs, "references_heading": ref_heading, "stamp": stamp_text,
             "venue_line": venue_line}
    return pre + body, truth
