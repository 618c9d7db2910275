"""Quantised classifiers side by side with fastText (issue 25): TREC (6 question types),
``embedtrain classify train`` + ``embedtrain classify quantize`` against fastText's
``supervised`` + ``quantize`` (its CLI, ``--fasttext-cli``, e.g. built from fastText's
source with ``make``), whole processes, same settings: dim 10 for both (our default,
the paper's hidden size), fastText's supervised defaults and ``--word-ngrams 2 --epochs 25
--lr 0.5``; quantisation as fastText's docs suggest (``-qnorm -retrain -cutoff 100000``,
dsub 2, retraining at quantize's defaults, 5 epochs at lr 0.05); 3 seeds, 2 threads, each
seed running embedtrain and fastText one after the other.

Reported per setting (medians over the seeds): file sizes in bytes (our .etm and
fastText's .bin before; each tool's .ftz after), P@1 on the test file before and after
quantisation (each tool's own test; ``fasttext test`` of OUR .ftz too, which must equal
ours), the points lost, the size ratio, and the wall time of each step (start-up,
reading and writing included). The machine is shared and noisy: times are indicative.

    flock /tmp/embedtrain-bench.lock python scripts/bench_ftz.py --fasttext-cli /tmp/ftbuild/fasttext
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import (ROOT, SHARED_DATA, TREC_DIM as DIM, TREC_SETTINGS as SETTINGS,  # noqa: E402
                      classify_train_cmd, fasttext_supervised_cmd, timed, trec_files)

CUTOFF = 100_000


def ft_p1(cli: str, model: Path, test: Path) -> float:
    out = subprocess.run([cli, "test", str(model), str(test)], capture_output=True, text=True,
                         check=True).stdout
    return float(out.split("P@1")[1].split()[0])


def et_p1(model: Path, test: Path, env) -> float:
    out = subprocess.run([sys.executable, "-m", "embedtrain", "classify", "test", str(model),
                          str(test), "--json", "-q"], capture_output=True, text=True, env=env,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])["P@1"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=SHARED_DATA / "classify")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cutoff", type=int, default=CUTOFF)
    ap.add_argument("--fasttext-cli", required=True, help="fastText's command-line binary")
    ap.add_argument("--out", type=Path, default=ROOT / "scripts" / "bench_ftz.out.json")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-ftz-"))
    train, test = trec_files(args.data, tmp)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    et = [sys.executable, "-m", "embedtrain", "classify"]
    threads = str(args.threads)
    quant_flags = ["--cutoff", str(args.cutoff), "--retrain", "--qnorm"]
    ft_quant_flags = ["-cutoff", str(args.cutoff), "-retrain", "-qnorm"]
    # untimed: compiles and caches the kernels
    subprocess.run(et + ["train", str(train), "-o", str(tmp / "w.etm"), "-q"], env=env, check=True)
    subprocess.run(et + ["quantize", str(tmp / "w.etm"), "-o", str(tmp / "w.ftz"), "--input",
                         str(train), "-q"] + quant_flags, env=env, check=True)
    results = {}
    for name, params in SETTINGS.items():
        runs = []
        for seed in range(1, args.seeds + 1):
            run = {"seed": seed}
            m, small = tmp / "m.etm", tmp / "m.ftz"
            run["embedtrain_train_s"] = timed(classify_train_cmd(train, m, args.threads, seed, params), env)[0]
            cmd = et + ["quantize", str(m), "-o", str(small), "--input", str(train), "--threads",
                        threads, "--seed", str(seed), "-q"] + quant_flags
            run["embedtrain_quantize_s"] = timed(cmd, env)[0]
            run["embedtrain_bytes"], run["embedtrain_ftz_bytes"] = m.stat().st_size, small.stat().st_size
            run["embedtrain_p1"], run["embedtrain_ftz_p1"] = et_p1(m, test, env), et_p1(small, test, env)
            run["fasttext_test_of_embedtrain_ftz_p1"] = ft_p1(args.fasttext_cli, small, test)

            ft = tmp / "ft"
            cmd = fasttext_supervised_cmd(args.fasttext_cli, train, ft, args.threads, seed, params)
            run["fasttext_train_s"] = timed(cmd)[0]
            cmd = [args.fasttext_cli, "quantize", "-input", str(train), "-output", str(ft),
                   "-thread", threads, "-verbose", "0"] + ft_quant_flags
            run["fasttext_quantize_s"] = timed(cmd)[0]
            ft_bin, ft_ftz = ft.with_suffix(".bin"), ft.with_suffix(".ftz")
            run["fasttext_bytes"], run["fasttext_ftz_bytes"] = ft_bin.stat().st_size, ft_ftz.stat().st_size
            run["fasttext_p1"], run["fasttext_ftz_p1"] = (ft_p1(args.fasttext_cli, ft_bin, test),
                                                          ft_p1(args.fasttext_cli, ft_ftz, test))
            run["embedtrain_test_of_fasttext_ftz_p1"] = et_p1(ft_ftz, test, env)
            runs.append(run)
            print(name, json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in run.items()}),
                  flush=True)

        def med(key):
            return statistics.median(r[key] for r in runs)

        summary = {"params": {"dim": DIM, **params}, "quantize": " ".join(quant_flags) + " --dsub 2"}
        for tool in ("embedtrain", "fasttext"):
            summary[tool] = {
                "bytes": med(f"{tool}_bytes"), "ftz_bytes": med(f"{tool}_ftz_bytes"),
                "size_ratio": round(med(f"{tool}_bytes") / med(f"{tool}_ftz_bytes"), 1),
                "p1": med(f"{tool}_p1"), "ftz_p1": med(f"{tool}_ftz_p1"),
                "points_lost": round(100 * (med(f"{tool}_p1") - med(f"{tool}_ftz_p1")), 2),
                "points_lost_per_seed": [round(100 * (r[f"{tool}_p1"] - r[f"{tool}_ftz_p1"]), 2)
                                         for r in runs],
                "train_s": round(med(f"{tool}_train_s"), 2),
                "quantize_s": round(med(f"{tool}_quantize_s"), 2),
            }
        summary["quantize_time_ratio"] = round(summary["embedtrain"]["quantize_s"]
                                               / summary["fasttext"]["quantize_s"], 2)
        summary["fasttext_test_agrees_on_our_ftz"] = all(
            r["fasttext_test_of_embedtrain_ftz_p1"] == printed(r["embedtrain_ftz_p1"]) for r in runs)
        summary["we_test_fasttexts_ftz_as_it_does"] = all(
            printed(r["embedtrain_test_of_fasttext_ftz_p1"]) == r["fasttext_ftz_p1"] for r in runs)
        summary["runs"] = runs
        results[name] = summary
    out = {"data": "TREC (5,452 train, 500 test questions)", "threads": args.threads,
           "seeds": args.seeds, "fasttext": args.fasttext_cli, "load_average": os.getloadavg(),
           "results": results}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps({k: {m: v for m, v in r.items() if m != "runs"} for k, r in results.items()}, indent=1))


def printed(p: float) -> float:
    """P@1 as fastText's test prints it (6 significant digits)."""
    return float(f"{p:.6g}")


if __name__ == "__main__":
    main()
