"""Fashion-MNIST with a small multi-layer perceptron in numpy (784-H1-H2-10, ReLU, softmax, Adam).

The Kiln sample: the arguments of Azure ML's Keras MNIST tutorial, plus --epochs and --limit. Logs loss
and accuracy every few batches and per epoch (train and test) through the `kiln` module, saves the
model (weights + architecture) to outputs/model/, and at the end logs two pictures (accuracy vs loss, the
test set's confusion matrix; with matplotlib) and a table of recall per class.
"""

import argparse
import gzip
import json
import os
import struct
import time

import numpy as np

import kiln

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def read_idx(path):
    with gzip.open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = magic & 0xFF
        shape = struct.unpack(">" + "I" * dims, f.read(4 * dims))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def find(folder, stem):
    for name in (stem + ".gz", stem):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    raise SystemExit("train.py: %s(.gz) not found in --data-folder %s" % (stem, folder))


def load(folder, limit):
    x_train = read_idx(find(folder, "train-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y_train = read_idx(find(folder, "train-labels-idx1-ubyte")).astype(np.int64)
    x_test = read_idx(find(folder, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0
    y_test = read_idx(find(folder, "t10k-labels-idx1-ubyte")).astype(np.int64)
    if limit:
        x_train, y_train = x_train[:limit], y_train[:limit]
        x_test, y_test = x_test[: max(1, limit // 6)], y_test[: max(1, limit // 6)]
    return x_train, y_train, x_test, y_test


class MLP:
    def __init__(self, sizes, rng):
        self.sizes = sizes
        self.params = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            w = (rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)).astype(np.float32)
            self.params += [w, np.zeros(n_out, dtype=np.float32)]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0

    def forward(self, x):
        activations = [x]
        for i in range(0, len(self.params), 2):
            x = x @ self.params[i] + self.params[i + 1]
            if i + 2 < len(self.params):
                x = np.maximum(x, 0)
            activations.append(x)
        logits = activations[-1]
        logits = logits - logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        return activations, probs

    def loss_accuracy(self, x, y, batch=5000):
        losses, correct = 0.0, 0
        for i in range(0, len(x), batch):
            _, probs = self.forward(x[i:i + batch])
            yy = y[i:i + batch]
            losses += -np.log(probs[np.arange(len(yy)), yy] + 1e-9).sum()
            correct += int((probs.argmax(axis=1) == yy).sum())
        return losses / len(x), correct / len(x)

    def train_step(self, x, y, lr, b1=0.9, b2=0.999, eps=1e-8):
        activations, probs = self.forward(x)
        n = len(y)
        loss = -np.log(probs[np.arange(n), y] + 1e-9).mean()
        accuracy = float((probs.argmax(axis=1) == y).mean())
        grad = probs
        grad[np.arange(n), y] -= 1
        grad /= n
        grads = [None] * len(self.params)
        for layer in range(len(self.params) // 2 - 1, -1, -1):
            a = activations[layer]
            grads[2 * layer] = a.T @ grad
            grads[2 * layer + 1] = grad.sum(axis=0)
            if layer > 0:
                grad = (grad @ self.params[2 * layer].T) * (activations[layer] > 0)
        self.t += 1
        for i, g in enumerate(grads):
            self.m[i] = b1 * self.m[i] + (1 - b1) * g
            self.v[i] = b2 * self.v[i] + (1 - b2) * g * g
            m_hat = self.m[i] / (1 - b1 ** self.t)
            v_hat = self.v[i] / (1 - b2 ** self.t)
            self.params[i] -= (lr * m_hat / (np.sqrt(v_hat) + eps)).astype(np.float32)
        return float(loss), accuracy

    def save(self, folder):
        os.makedirs(folder, exist_ok=True)
        np.savez(os.path.join(folder, "weights.npz"), *self.params)
        with open(os.path.join(folder, "model.json"), "w") as f:
            json.dump({"type": "mlp", "framework": "numpy", "layers": self.sizes, "activation": "relu",
                       "output": "softmax", "classes": CLASSES, "weights": "weights.npz"}, f, indent=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-folder", default=DEFAULT_DATA, help="folder with the four IDX .gz files")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--first-layer-neurons", type=int, default=300)
    parser.add_argument("--second-layer-neurons", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.001)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=0, help="use only the first N training images (0: all)")
    parser.add_argument("--log-every", type=int, default=20, help="log loss and accuracy every N batches")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    run = kiln.Run.get_context()
    run.set_params({k: v for k, v in vars(args).items()})

    x_train, y_train, x_test, y_test = load(args.data_folder, args.limit)
    print("Data: %d training and %d test images from %s" % (len(x_train), len(x_test), args.data_folder))
    rng = np.random.default_rng(args.seed)
    model = MLP([784, args.first_layer_neurons, args.second_layer_neurons, 10], rng)
    print("Model: 784-%d-%d-10, batch %d, learning rate %g, %d epochs" % (
        args.first_layer_neurons, args.second_layer_neurons, args.batch_size, args.learning_rate, args.epochs))

    step = 0
    curve = []  # (loss, accuracy) as logged, for the picture at the end
    for epoch in range(args.epochs):
        start = time.time()
        order = rng.permutation(len(x_train))
        window_loss, window_acc, window_n = 0.0, 0.0, 0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            loss, accuracy = model.train_step(x_train[idx], y_train[idx], args.learning_rate)
            window_loss += loss
            window_acc += accuracy
            window_n += 1
            step += 1
            if step % args.log_every == 0:
                run.log_batch({"loss": window_loss / window_n, "accuracy": window_acc / window_n}, step=step)
                curve.append((window_loss / window_n, window_acc / window_n))
                window_loss, window_acc, window_n = 0.0, 0.0, 0
        if window_n:  # the epoch's last batches, so that a short epoch logs too
            run.log_batch({"loss": window_loss / window_n, "accuracy": window_acc / window_n}, step=step)
            curve.append((window_loss / window_n, window_acc / window_n))
        train_loss, train_acc = model.loss_accuracy(x_train, y_train)
        test_loss, test_acc = model.loss_accuracy(x_test, y_test)
        run.log_batch({"epoch": epoch + 1, "train_loss": train_loss, "train_accuracy": train_acc,
                       "test_loss": test_loss, "test_accuracy": test_acc}, step=epoch + 1)
        print("Epoch %d/%d: train loss %.4f accuracy %.4f, test loss %.4f accuracy %.4f (%.1f s)" % (
            epoch + 1, args.epochs, train_loss, train_acc, test_loss, test_acc, time.time() - start))

    model.save(os.path.join("outputs", "model"))
    print("Saved the model to outputs/model/")
    pictures(run, model, curve, x_test, y_test)


CLASSES = ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Boot"]


def pictures(run, model, curve, x_test, y_test):
    """Accuracy vs loss and the test set's confusion matrix as images of the run (Debian's
    python3-matplotlib; without it the run just has no pictures), and per-class recall as a table."""
    _, probs = model.forward(x_test)
    confusion = np.zeros((10, 10), dtype=int)
    np.add.at(confusion, (y_test, probs.argmax(axis=1)), 1)
    for c in range(10):
        total = int(confusion[c].sum())
        run.log_row("Recall per class", class_name=CLASSES[c], images=total,
                    recall=round(float(confusion[c, c]) / total, 4) if total else None)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("No pictures: matplotlib is not installed (Debian: python3-matplotlib)")
        return
    if curve:
        plt.figure(figsize=(6, 4))
        plt.plot([a for _, a in curve], "b-", label="accuracy")
        plt.plot([l for l, _ in curve], "r-", label="loss")
        plt.xlabel("logged window")
        plt.legend()
        plt.title("Accuracy vs Loss")
        run.log_image("Accuracy vs Loss", plot=plt)
        plt.close()
    plt.figure(figsize=(6, 5))
    plt.imshow(confusion, cmap="Blues")
    plt.xticks(range(10), CLASSES, rotation=60, fontsize=7)
    plt.yticks(range(10), CLASSES, fontsize=7)
    plt.xlabel("predicted")
    plt.ylabel("true")
    plt.colorbar()
    plt.title("Confusion matrix (test set)")
    plt.tight_layout()
    run.log_image("Confusion matrix", plot=plt)
    plt.close()


if __name__ == "__main__":
    main()
