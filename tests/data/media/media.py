"""Logs what v1 scripts log besides metrics (tests: the run page's Images & tables tab): a matplotlib
figure twice under one name (a series), an image file, a table row by row and one given as columns, a
list as a metric, and an uploaded file. (In a folder of its own: tests/data/scripts has a token.py that
would shadow the standard library's token module, which matplotlib imports.)"""
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from kiln import Run  # noqa: E402

run = Run.get_context()
for epoch in (1, 2):
    plt.figure(figsize=(4, 3))
    plt.plot([0, 1, 2], [0, epoch, 2 * epoch])
    plt.title("epoch %d" % epoch)
    run.log_image("Accuracy vs Loss", plot=plt, description="after epoch %d" % epoch)
    plt.close()
picture = os.path.join(tempfile.mkdtemp(), "square.png")
plt.figure(figsize=(2, 2))
plt.savefig(picture)
plt.close()
run.log_image("square", path=picture)
for x in range(3):
    run.log_row("Y over X", x=x, y=x * x)
run.log_table("per class", {"class": ["shirt", "bag"], "recall": [0.5, 0.75]})
run.log_list("accuracies", [0.6, 0.7, 0.87])
with open(os.path.join(tempfile.mkdtemp(), "note.txt"), "w+") as f:
    f.write("kept\n")
    f.flush()
    run.upload_file("reports/note.txt", f.name)
print("logged")
