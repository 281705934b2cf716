"""What the corpus papers say: a deterministic library of made-up papers (titles, authors, abstracts, sections of
paragraphs, reference lists that cite each other and a shared pool of outside papers).

Everything is drawn from ``random.Random(seed)``, so the same seed gives the same papers. The text is made-up but
reads like a computer-vision paper, with enough varied vocabulary that a sentence is recognisable by its words.

Identifiers: corpus papers get arXiv-like ids whose number is above 90000 (e.g. ``2103.91234``), a number arXiv has
not reached in any month, so they never collide with the starter set or a real paper. Outside papers are real
papers of the starter set (their real arXiv ids) plus made-up ones (some with a DOI under the 10.5555 test prefix,
some with nothing but title, authors and year).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

LAYOUTS = ("ieee", "acm", "lncs", "neurips")


@dataclass
class Work:
    """A paper that can be cited: one of the corpus (``key`` like ``c03``) or an outside one (``ext:...``)."""

    key: str
    title: str
    authors: list[str]
    year: int
    venue: str
    arxiv_id: str | None = None
    doi: str | None = None
    pages: str | None = None


@dataclass
class Citation:
    """One entry of a reference list: which work it cites and how it is written (what it mentions)."""

    work: Work
    mention: str  # "arxiv": its arXiv id is printed; "doi": its DOI; "plain": title/authors/year only


@dataclass
class Paragraph:
    section: str  # the heading in force, as printed ("" before the first heading)
    text: str  # plain text as printed (citations as "[3]", footnote marks as digits)
    tex: str


@dataclass
class Paper:
    key: str
    layout: str
    stamp: bool
    work: Work
    affiliations: list[str]
    abstract: str
    category: str
    method: str = ""
    blocks: list[tuple[str, Any]] = field(default_factory=list)  # ("heading", (level, number, title)), ...
    refs: list[Citation] = field(default_factory=list)


# --- outside papers -----------------------------------------------------------------------------------------------

#: Real papers of the starter set (reading/data/starter_papers.json), cited by several corpus papers.
STARTER = [
    Work("ext:he2016", "Deep Residual Learning for Image Recognition",
         ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"], 2016, "CVPR", "1512.03385", None, "770–778"),
    Work("ext:zhang2018", "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
         ["Xiangyu Zhang", "Xinyu Zhou", "Mengxiao Lin", "Jian Sun"], 2018, "CVPR", "1707.01083", None, "6848–6856"),
    Work("ext:ma2018", "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
         ["Ningning Ma", "Xiangyu Zhang", "Hai-Tao Zheng", "Jian Sun"], 2018, "ECCV", "1807.11164", None, "116–131"),
    Work("ext:guo2020", "Single Path One-Shot Neural Architecture Search with Uniform Sampling",
         ["Zichao Guo", "Xiangyu Zhang", "Haoyuan Mu", "Wen Heng", "Zechun Liu", "Yichen Wei", "Jian Sun"], 2020,
         "ECCV", "1904.00420", None, "544–560"),
    Work("ext:ioffe2015", "Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate "
         "Shift", ["Sergey Ioffe", "Christian Szegedy"], 2015, "ICML", "1502.03167", None, "448–456"),
    Work("ext:howard2017", "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
         ["Andrew G. Howard", "Menglong Zhu", "Bo Chen", "Dmitry Kalenichenko", "Weijun Wang", "Tobias Weyand",
          "Marco Andreetto", "Hartwig Adam"], 2017, "arXiv", "1704.04861"),
    Work("ext:sandler2018", "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
         ["Mark Sandler", "Andrew Howard", "Menglong Zhu", "Andrey Zhmoginov", "Liang-Chieh Chen"], 2018, "CVPR",
         "1801.04381", None, "4510–4520"),
    Work("ext:liu2019", "DARTS: Differentiable Architecture Search", ["Hanxiao Liu", "Karen Simonyan", "Yiming Yang"],
         2019, "ICLR", "1806.09055"),
    Work("ext:krizhevsky2012", "ImageNet Classification with Deep Convolutional Neural Networks",
         ["Alex Krizhevsky", "Ilya Sutskever", "Geoffrey E. Hinton"], 2012, "NeurIPS", None, None, "1097–1105"),
    Work("ext:xie2017", "Aggregated Residual Transformations for Deep Neural Networks",
         ["Saining Xie", "Ross Girshick", "Piotr Dollár", "Zhuowen Tu", "Kaiming He"], 2017, "CVPR", "1611.05431",
         None, "1492–1500"),
]

#: Made-up outside papers, also cited by several corpus papers (one with a DOI, the others with nothing).
MADE_UP = [
    Work("ext:okafor2019", "A Survey of Compute Budgets in Visual Recognition",
         ["Chidi Okafor", "Lena Brandt"], 2019, "ACM Computing Surveys", None, "10.5555/3310001.3310042", "1–38"),
    Work("ext:varga2020", "Measuring Latency on Mobile Accelerators", ["Eszter Varga", "Tomas Lindqvist",
         "Priya Raman"], 2020, "MLSys", None, None, "212–225"),
    Work("ext:moreau2018", "The Long Tail of Image Datasets", ["Claire Moreau", "Daniel Osei"], 2018, "BMVC"),
]

_FIRST = ["Aiko", "Bruno", "Carmen", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivo", "Jun", "Kaveh", "Lucia",
          "Mateo", "Nadia", "Oskar", "Pilar", "Quentin", "Rhea", "Soren", "Tamar", "Umar", "Vera", "Wen", "Ximena",
          "Yusuf", "Zora", "Anton", "Beatriz", "Cyrus", "Dalia", "Emil", "Freya", "Hugo", "Ines", "Jonas", "Kira"]
_LAST = ["Albrecht", "Baptiste", "Castellano", "Dragan", "Eriksen", "Fujimoto", "Grünwald", "Halvorsen", "Ibarra",
         "Jovanovic", "Kowalczyk", "Lindgren", "Marchetti", "Nakamura", "Oyelaran", "Petrov", "Quiroga",
         "Rasmussen", "Santoro", "Takahashi", "Ulrich", "Valdivia", "Weber", "Xu", "Yamada", "Zielinski", "Arslan",
         "Bianchi", "Coelho", "Duval", "Esposito", "Ferreira", "Gallagher", "Horvat", "Ivanova", "Jansen"]
_INSTITUTES = ["University of Tarragona", "Institute for Visual Computing, Lund", "Northfield University",
               "Kessler Research Lab", "Technical University of Vienna", "Lakeside Institute of Technology",
               "University of Porto", "Sendai Graduate School of Informatics", "Aurora AI Research"]
_CATEGORIES = ["cs.CV", "cs.LG", "cs.CV", "cs.NE"]
_VENUES = {"ieee": "ICIP", "acm": "MM", "lncs": "ECCV", "neurips": "NeurIPS"}

#: Topics: (method name, topic phrase, component, task).
_TOPICS = [
    ("GateShift", "channel gating", "gating unit", "image classification"),
    ("SparseMix", "sparse mixing of feature maps", "mixing block", "object detection"),
    ("LatNet", "latency-aware architecture search", "latency predictor", "mobile image classification"),
    ("TokenFold", "token folding in vision transformers", "folding layer", "semantic segmentation"),
    ("QuantBridge", "low-bit quantization of depthwise convolutions", "quantizer", "edge inference"),
    ("PrunePath", "structured pruning of residual paths", "path scorer", "image classification"),
    ("ShiftAttn", "shift-based attention", "shift operator", "video recognition"),
    ("DistilGroup", "group-wise knowledge distillation", "group teacher", "fine-grained recognition"),
    ("ElasticKernel", "elastic kernel sizes", "kernel selector", "instance segmentation"),
    ("WarmSample", "warm-started supernet sampling", "path sampler", "neural architecture search"),
    ("FlatBN", "batch normalization folding", "folded normalizer", "on-device training"),
    ("PatchDrop", "patch dropping for efficient training", "drop scheduler", "self-supervised pre-training"),
    ("ColorJit", "color-robust feature learning", "jitter module", "domain generalization"),
    ("MemSwap", "memory-swapping for large activations", "swap planner", "high-resolution detection"),
    ("RouteNorm", "routing-aware normalization", "router", "multi-task learning"),
    ("DepthCache", "caching intermediate depth features", "cache controller", "depth estimation"),
]
_DATASETS = ["ImageNet", "COCO", "CIFAR-100", "ADE20K", "Kinetics-400", "Cityscapes", "Places365", "iNaturalist"]
_ADJ = ["consistent", "substantial", "modest", "clear", "measurable", "steady", "noticeable", "reliable"]
_VERBS = ["reduces", "improves", "stabilises", "accelerates", "simplifies", "regularises", "complements"]
_OBJECTS = ["the training schedule", "the memory footprint", "the inference latency", "the accuracy of small models",
            "the search cost", "the variance across seeds", "the number of parameters", "the data pipeline"]
_TEMPLATES = [
    "We study {topic} for {task}, a setting in which the compute budget is fixed in advance.",
    "Our method, {m}, {verb} {obj} without changing the backbone.",
    "Prior work {cite} treats {topic} as a post-processing step, which limits what the network can learn.",
    "On {ds}, {m} reaches {acc} percent top-1 accuracy at {flops} MFLOPs.",
    "The {comp} is trained jointly with the rest of the network and adds {params} thousand parameters.",
    "This observation motivates a {adj} change in how the {comp} is placed inside each stage.",
    "As shown in {cite}, wider layers at the same cost often help less than expected.",
    "We report the mean of three runs; the standard deviation is below {sd} points in every case.",
    "Removing the {comp} lowers accuracy by {drop} points, which confirms that it carries information.",
    "A {adj} gain appears on {ds} as well, although the images there are much larger.",
    "The baseline follows the recipe of {cite} with a cosine schedule over {ep} epochs.",
    "Unlike {cite}, we keep the number of channels constant across the {comp} and its neighbours.",
    "Latency is measured on a single core with a batch of one image, after {warm} warm-up iterations.",
    "Table {tab} lists the results, and Figure {fig} plots accuracy against the measured latency.",
    "The effect of {topic} is strongest in the last stage, where the feature maps are smallest.",
    "We find that {m} {verb} {obj}, and the difference grows with the depth of the network.",
    "Each experiment uses the same data augmentation, so the comparison isolates the {comp}.",
    "For {task}, the {comp} is attached to every block whose stride is one.",
    "The cost of the {comp} itself is small: about {pct} percent of the total operations.",
    "These results suggest that {topic} and careful scheduling are two sides of the same question.",
    "When the budget is halved, {m} still keeps most of its advantage over the baseline.",
    "Our analysis builds on the guidelines of {cite} and extends them to {task}.",
    "Figure {fig} also shows that the gain does not come from a longer training schedule.",
    "We leave the study of larger models and other hardware to future work.",
    "In contrast to methods that search over many operators {cite}, we only vary the {comp}.",
    "The training loss converges at the same speed, but the validation accuracy keeps improving.",
]
_CONCLUSION = [
    "We presented {m}, a simple approach to {topic} that {verb} {obj}.",
    "Experiments on {ds} show a {adj} improvement at equal cost.",
    "The code and trained models will be released to make the comparison easy to repeat.",
]
_FOOTNOTES = ["Code and models are available from the authors on request.",
              "We use the official validation split throughout; the test server was not used.",
              "Measured with the default threads of the runtime; see the appendix for other settings.",
              "This paper extends an earlier workshop version with new experiments."]
EQUATIONS = [
    r"\mathcal{L}(\theta) = \frac{1}{N}\sum_{i=1}^{N} \ell\big(f_\theta(x_i), y_i\big) + \lambda \lVert\theta\rVert_2^2",
    r"y = \sigma\big(W_2\,\delta(W_1 z)\big) \odot x",
    r"T(a) = \sum_{l=1}^{L} \mathrm{lat}(a_l) \leq T_{\max}",
    r"\hat{x} = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}\,\gamma + \beta",
]


def _name(rng: random.Random) -> str:
    first = rng.choice(_FIRST)
    if rng.random() < 0.15:
        first += f" {rng.choice('ABCDEFGHJKLMNPRST')}."
    return f"{first} {rng.choice(_LAST)}"


def _title(rng: random.Random, m: str, topic: str, task: str) -> str:
    forms = [f"{m}: Efficient {topic.title()} for {task.title()}",
             f"Rethinking {topic.title()} in Compact Networks",
             f"{m}: A Study of {topic.title()} Under a Fixed Budget",
             f"Towards Practical {topic.title()} for {task.title()}"]
    return rng.choice(forms).replace("Of ", "of ").replace("For ", "for ").replace("In ", "in ")


def library(n: int, *, seed: int = 25, layouts: tuple[str, ...] = LAYOUTS, stamps: bool = True) -> list[Paper]:
    """``n`` papers; paper ``i`` has layout ``layouts[i % len(layouts)]`` and cites earlier papers and outside ones."""
    rng = random.Random(seed)
    papers: list[Paper] = []
    used_ids: set[str] = set()
    for i in range(n):
        layout = layouts[i % len(layouts)]
        m, topic, comp, task = _TOPICS[i % len(_TOPICS)]
        if i >= len(_TOPICS):
            m = f"{m}-{i // len(_TOPICS) + 1}"
        year = 2019 + min(6, i * 7 // max(1, n))
        month = rng.randint(1, 12)
        while True:
            aid = f"{year % 100:02d}{month:02d}.{rng.randint(90000, 99999)}"
            if aid not in used_ids:
                used_ids.add(aid)
                break
        doi = f"10.5555/{3400000 + i * 37}.{3400000 + i * 37 + rng.randint(1, 30)}" if layout == "acm" else None
        authors = []
        while len(authors) < rng.randint(2, 5):
            a = _name(rng)
            if a not in authors and a.split()[-1] not in {x.split()[-1] for x in authors}:
                authors.append(a)
        title = _title(rng, m, topic, task)
        if i >= len(_TOPICS) and m not in title:  # a title of its own (the log merges papers by title)
            title = f"{m}: {title}"
        work = Work(f"c{i:02d}", title, authors, year, _VENUES[layout],
                    aid if rng.random() < 0.8 else None, doi, f"{rng.randint(1, 900)}–{rng.randint(901, 990)}")
        paper = Paper(work.key, layout, stamps and (i // len(layouts)) % 2 == 0 and work.arxiv_id is not None, work,
                      rng.sample(_INSTITUTES, k=min(len(authors), rng.randint(1, 3))), "",
                      rng.choice(_CATEGORIES), m)
        # references: earlier corpus papers, shared outside papers, a one-off made-up one
        cited: list[Work] = [p.work for p in rng.sample(papers, k=min(len(papers), rng.randint(2, 4)))]
        cited += rng.sample(STARTER, k=rng.randint(5, 7)) + rng.sample(MADE_UP, k=rng.randint(1, 2))
        for j in range(rng.randint(8, 14)):  # one-off outside papers, cited by this paper only
            cited.append(_one_off(rng, f"ext:{paper.key}-{j}", year))
        refs = []
        for w in cited:
            mentions = ["plain"] + (["arxiv"] * 2 if w.arxiv_id else []) + (["doi"] * 2 if w.doi else [])
            refs.append(Citation(w, rng.choice(mentions)))
        if layout in ("acm", "lncs", "neurips"):  # alphabetical by first author's surname, as their styles sort
            refs.sort(key=lambda c: (c.work.authors[0].split()[-1], c.work.year))
        else:
            rng.shuffle(refs)  # IEEE: in order of first citation (the text cites them in list order below)
        paper.refs = refs
        _write_text(paper, rng, m, topic, comp, task)
        papers.append(paper)
    return papers


_ONE_OFF_VENUES = ["CVPR", "ICCV", "ECCV", "NeurIPS", "ICML", "ICLR", "BMVC", "WACV", "AAAI", "Tech. Report",
                   "CVPR Workshops", "TPAMI", "IJCV"]


def _one_off(rng: random.Random, key: str, year: int) -> Work:
    m, topic, comp, task = rng.choice(_TOPICS)
    forms = [f"Learning {topic.title()} with Few Labels", f"On the Role of the {comp.title()} in {task.title()}",
             f"Efficient {task.title()} via {topic.title()}", f"Revisiting {task.title()} at Scale",
             f"A Benchmark for {topic.title()}", f"{rng.choice(_DATASETS)} Is Not Enough: {task.title()} Revisited",
             f"Scaling {topic.title()} to Billions of Images", f"Understanding {comp.title()}s in Deep Networks"]
    authors = [_name(rng) for _ in range(rng.randint(1, 6))]
    y = rng.randint(2012, year)
    has_arxiv = rng.random() < 0.3
    aid = f"{y % 100:02d}{rng.randint(1, 12):02d}.{rng.randint(90000, 99999)}" if has_arxiv and y >= 2015 else None
    doi = f"10.5555/{rng.randint(1000000, 9999999)}" if rng.random() < 0.2 else None
    pages = f"{(a := rng.randint(1, 9000))}–{a + rng.randint(5, 15)}" if rng.random() < 0.7 else None
    return Work(key, forms[rng.randrange(len(forms))].replace(" Of ", " of ").replace(" For ", " for ").replace(" In ", " in "), authors,
                y, rng.choice(_ONE_OFF_VENUES), aid, doi, pages)


# --- the text -----------------------------------------------------------------------------------------------------

_ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]

SECTIONS = [("Introduction", []), ("Related Work", []), ("Method", ["Overview", "The {Comp}"]),
            ("Experiments", ["Setup", "Ablation", "Comparison"]), ("Conclusion", [])]


def printed_heading(layout: str, sec: int, sub: int | None, title: str) -> str:
    """A heading as the class prints it: "4.2 Ablation" (IEEE: "IV. EXPERIMENTS" and "B. Ablation")."""
    if layout == "ieee":
        return f"{_ROMAN[sec - 1]}. {title.upper()}" if sub is None else f"{'ABCDEFGH'[sub - 1]}. {title}"
    if layout == "acm" and sub is None:
        return f"{sec} {title.upper()}"
    return f"{sec} {title}" if sub is None else f"{sec}.{sub} {title}"


def _fill(rng: random.Random, tmpl: str, ctx: dict[str, str], cite: Any) -> str:
    vals = {k: v for k, v in ctx.items()}
    vals.update(verb=rng.choice(_VERBS), obj=rng.choice(_OBJECTS), adj=rng.choice(_ADJ),
                ds=rng.choice(_DATASETS), acc=f"{rng.uniform(60, 80):.1f}", flops=str(rng.randint(40, 600)),
                params=str(rng.randint(2, 90)), sd=f"0.{rng.randint(1, 4)}", drop=f"{rng.uniform(0.3, 3):.1f}",
                ep=str(rng.choice([90, 120, 240, 300])), warm=str(rng.choice([10, 20, 50])),
                pct=f"{rng.uniform(0.5, 4):.1f}", tab="1", fig="1")
    out = tmpl
    while "{cite}" in out:
        out = out.replace("{cite}", cite(), 1)
    return out.format(**vals)


def _write_text(paper: Paper, rng: random.Random, m: str, topic: str, comp: str, task: str) -> None:
    ctx = {"m": m, "topic": topic, "comp": comp, "task": task}
    order = list(range(len(paper.refs)))
    next_cite = [0]

    def cite() -> str:
        # IEEE lists references in order of first citation: cite them in list order first, then at random
        if next_cite[0] < len(order):
            j = order[next_cite[0]]
            next_cite[0] += 1
        else:
            j = rng.randrange(len(order))
        return f"\x00cite:{j}\x00"

    paper.abstract = " ".join(_fill(rng, t, ctx, lambda: "earlier work") for t in
                              [_TEMPLATES[0], _TEMPLATES[1], _TEMPLATES[3], _TEMPLATES[14], _TEMPLATES[19]])
    blocks: list[tuple[str, Any]] = []
    footnotes = rng.sample(_FOOTNOTES, k=rng.randint(1, 2))
    eqs = rng.sample(EQUATIONS, k=2)
    for s, (title, subs) in enumerate(SECTIONS, start=1):
        blocks.append(("heading", (1, s, title)))
        n_par = 1 if title == "Conclusion" else rng.randint(2, 3) if not subs else 1
        for _ in range(n_par):
            blocks.append(("para", _paragraph(rng, ctx, cite, title == "Conclusion")))
        for j, sub in enumerate(subs, start=1):
            blocks.append(("heading", (2, s, j, sub.replace("{Comp}", comp.title()))))
            for _ in range(rng.randint(1, 2)):
                blocks.append(("para", _paragraph(rng, ctx, cite, False)))
            if title == "Method" and eqs:
                blocks.append(("equation", eqs.pop()))
                blocks.append(("para", _paragraph(rng, ctx, cite, False, short=True)))
        if title == "Experiments":
            blocks.insert(len(blocks) - 3, ("table", _table(rng, m)))
            blocks.insert(len(blocks) - 5, ("figure", m))
    while next_cite[0] < len(order):  # every entry is cited somewhere
        blocks.insert(2, ("para", _paragraph(rng, ctx, cite, False, short=True, cites=True)))
    # footnotes on the first paragraphs' last sentence
    paras = [i for i, (k, _) in enumerate(blocks) if k == "para"]
    for i, note in zip(paras[1:], footnotes):
        blocks[i] = ("para", blocks[i][1] + f"\x00fn:{note}\x00")
    paper.blocks = blocks


def _paragraph(rng: random.Random, ctx: dict[str, str], cite: Any, conclusion: bool, short: bool = False,
               cites: bool = False) -> str:
    if conclusion:
        tmpls = _CONCLUSION
    else:
        k = rng.randint(2, 3) if short else rng.randint(4, 6)
        pool = [t for t in _TEMPLATES if "{cite}" in t] if cites else _TEMPLATES
        tmpls = rng.sample(pool, k=min(k, len(pool)))
    return " ".join(_fill(rng, t, ctx, cite) for t in tmpls)


def _table(rng: random.Random, m: str) -> list[list[str]]:
    rows = [["Method", "Top-1 (%)", "MFLOPs", "Latency (ms)"]]
    for name in ["Baseline", "+ wider", "+ deeper", m]:
        rows.append([name, f"{rng.uniform(60, 78):.1f}", f"{rng.randint(40, 600)}.{rng.randint(0, 9)}",
                     f"{rng.uniform(2, 40):.2f}"])
    return rows
