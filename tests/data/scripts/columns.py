# Logs through kiln's binary batches: a metric every step, two more every tenth step with explicit steps
# (one with a non-ASCII name), then names and steps kiln refuses at log time, and how many it refused.
import kiln

run = kiln.Run.get_context()
for i in range(2500):
    run.log("loss", 1.0 / (i + 1))
    if i % 10 == 0:
        run.log_batch({"acc/\u00fc": i / 2500.0, "lr": 0.1}, step=i)
refused = 0
for name, step in (("", None), ("x" * 300, None), ("tab\tname", None), ("neg", -1), ("big", 1 << 60)):
    try:
        run.log(name, 1.0, step=step)
    except ValueError:
        refused += 1
run.log("refused", refused)
