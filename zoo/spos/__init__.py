"""Single Path One-Shot NAS (Guo et al., arXiv 1904.00420): supernet, architectures, lookup tables, training,
evolutionary search and subnet extraction.

    from zoo.spos import SuperNet, Arch, extract_subnet, recalibrate_bn, flops_table
    net = SuperNet()                        # the paper's supernet (zoo.load("spos_supernet") builds the same)
    y = net(x, "21012020202300003233")      # one path
    sub = extract_subnet(net, "21012020202300003233")   # a standalone nn.Module with inherited weights
"""
from .arch import BLOCK_NAMES, NUM_BLOCKS, SCALES, SPOS_A, SPOS_AC, Arch, ArchError
from .checkpoint import CheckpointError, load_supernet, read_checkpoint
from .search import Candidate, SearchConfig, SearchError, SearchResult, evolution_search, make_scorer, pareto_front
from .search import calibration_batches, search_supernet
from .subnet import SPOSNet, extract_subnet, recalibrate_bn
from .supernet import Layout, SuperNet
from .tables import FlopsTable, LatencyTable, device_description, flops_table, measure_latency_table
from .train import FlopsUniformSampler, TrainConfig, TrainResult, UniformSampler, train_supernet

__all__ = [
    "Arch",
    "ArchError",
    "BLOCK_NAMES",
    "Candidate",
    "CheckpointError",
    "FlopsTable",
    "FlopsUniformSampler",
    "LatencyTable",
    "Layout",
    "NUM_BLOCKS",
    "SCALES",
    "SPOSNet",
    "SPOS_A",
    "SPOS_AC",
    "SearchConfig",
    "SearchError",
    "SearchResult",
    "SuperNet",
    "TrainConfig",
    "TrainResult",
    "UniformSampler",
    "calibration_batches",
    "device_description",
    "evolution_search",
    "extract_subnet",
    "flops_table",
    "load_supernet",
    "make_scorer",
    "measure_latency_table",
    "pareto_front",
    "read_checkpoint",
    "recalibrate_bn",
    "search_supernet",
    "train_supernet",
]
