#!/usr/bin/env python3
"""The hostile-input suite: cnnprune run on inputs a careless user or an attacker would give.

    python3 scripts/hostile_check.py DATA_DIR [--cnnprune .build/release/cnnprune] [--work-dir DIR] [--only NAME,...]

DATA_DIR is CIFAR-10 in its binary layout (CI: ../shared/cifar-10-batches-bin). Every case runs
the real binary in a folder of its own and checks, besides what the case itself expects:

  - no run ends by a signal or a trap (exit status 128 or more, or killed by a signal) unless
    the case sent that signal itself;
  - a run that must fail exits non-zero with a one-line `Error: …` message first on stderr;
  - no file outside the run's declared outputs is created, changed or removed: the case's
    folder holds "victim" files (models, data, links, a FIFO) whose bytes, types and link
    targets are compared before and after, and no temporary file (`*.tmp`) is left anywhere.

The classes (issue 30): crash (unbounded sizes, memory, integer overflow), data-loss (output
paths, temporary files, locks, mixed models), silent (resume, safetensors, data readers),
other (downloads, leftovers, messages). Prints one line per case and closes with
`hostile_check: N passed, M failed`; exits 1 on a failure.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

RECORD = 3073
CASES = []


def case(klass):
    """Registers a case function of class `klass` (its name is the function's)."""
    def register(function):
        CASES.append((function.__name__, klass, function))
        return function
    return register


class Failure(Exception):
    pass


def expect(condition, message):
    if not condition:
        raise Failure(message)


class Context:
    """One case's folder, the binary, the data and the shared fixtures."""

    def __init__(self, suite, folder):
        self.suite = suite
        self.folder = folder
        self.crashes = []
        self.allowed_signals = set()

    def path(self, *parts):
        return os.path.join(self.folder, *parts)

    def run(self, args, timeout=600, env=None, background=False):
        """Runs cnnprune with `args` in the case's folder; returns (rc, stdout, stderr)."""
        full_env = dict(os.environ)
        full_env["CIFAR10_DIR"] = self.suite.data
        full_env.update(env or {})
        command = [self.suite.binary] + [str(a) for a in args]
        self.suite.invocations += 1
        if background:
            return subprocess.Popen(command, cwd=self.folder, env=full_env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        process = subprocess.run(command, cwd=self.folder, env=full_env, stdin=subprocess.DEVNULL,
                                 capture_output=True, text=True, timeout=timeout)
        self.note_exit(process.returncode, args, process.stderr)
        return process.returncode, process.stdout, process.stderr

    def note_exit(self, rc, args, stderr):
        if (rc < 0 and -rc not in self.allowed_signals) or rc >= 128:
            last = stderr.strip().splitlines()[-3:] if stderr else []
            self.crashes.append(f"exit {rc} for {' '.join(map(str, args))}: {' | '.join(last)}")

    def fails(self, args, *fragments, **kwargs):
        """Runs `args`, which must fail with a one-line error containing every fragment."""
        rc, out, err = self.run(args, **kwargs)
        expect(rc != 0, f"exit 0 for {' '.join(map(str, args))}, expected a failure")
        # Progress lines may come first (a download's "fetching …"); the error is one line.
        lines = [line for line in err.splitlines() if line.startswith("Error: ")]
        expect(len(lines) == 1, f"not exactly one 'Error: …' line on stderr: {err.strip()[:300]!r}")
        for fragment in fragments:
            expect(fragment.lower() in lines[0].lower(), f"the error does not say {fragment!r}: {lines[0]!r}")
        return lines[0]

    def succeeds(self, args, **kwargs):
        rc, out, err = self.run(args, **kwargs)
        expect(rc == 0, f"exit {rc} for {' '.join(map(str, args))}: {err.strip()[-400:]}")
        return out

    def victim(self, name, data=b"victim data, must stay as it is\n"):
        path = self.path("victims", name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path


def snapshot(folder, skip=()):
    """Every entry under `folder` (not following links): type, bytes' hash, link target."""
    result = {}
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, folder)
            if any(rel == s or rel.startswith(s + os.sep) for s in skip):
                continue
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                result[rel] = ("link", os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as f:
                    result[rel] = ("file", hashlib.sha256(f.read()).hexdigest())
            elif stat.S_ISDIR(info.st_mode):
                result[rel] = ("dir",)
            else:
                result[rel] = ("special", stat.S_IFMT(info.st_mode))
    return result


def temporary_files(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if f.endswith(".tmp")]
    return found


# ---------------------------------------------------------------------------------------------
# safetensors helpers (the format: u64 header length, JSON header, data)

def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    length = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + length]), raw[8 + length:]


def write_safetensors(path, header_text, data):
    header = header_text.encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header + data)


def with_training_field(source, target, **changes):
    """A copy of training checkpoint `source` with fields of its `cnnprune.training` changed."""
    header, data = read_safetensors(source)
    progress = json.loads(header["__metadata__"]["cnnprune.training"])
    for key, value in changes.items():
        if "." in key:
            outer, inner = key.split(".", 1)
            progress[outer][inner] = value
        else:
            progress[key] = value
    header["__metadata__"]["cnnprune.training"] = json.dumps(progress)
    write_safetensors(target, json.dumps(header), data)


# ---------------------------------------------------------------------------------------------
# crash: sizes without a bound, memory, integer overflow

@case("crash")
def train_batch_size_unbounded(c):
    c.fails(["train", "--subset", 64, "--epochs", 1, "--batch-size", 10**11, "--output", "m.safetensors"], "--batch-size")
    expect(not os.path.exists(c.path("m.safetensors")), "a model was written")


@case("crash")
def prune_finetune_batch_size_unbounded(c):
    c.fails(["prune", "--model", c.suite.model, "--layer", "conv2", "--k", 4, "--finetune-epochs", 1, "--batch-size", 10**11,
             "--output", "p.safetensors"], "--batch-size")


@case("crash")
def sweep_finetune_batch_size_unbounded(c):
    c.fails(["sweep", "--model", c.suite.model, "--k", "0,4", "--finetune-epochs", 1, "--batch-size", 2**62,
             "--output", "sweep"], "--batch-size")
    expect(not os.path.exists(c.path("sweep")), "an output folder was left")


@case("crash")
def checkpoint_batch_size_unbounded(c):
    with_training_field(c.suite.checkpoint, c.path("bad.safetensors"), batch_size=10**12)
    c.fails(["train", "--resume", "bad.safetensors", "--epochs", 2, "--output", "m.safetensors"], "batch size")


@case("crash")
def checkpoint_batch_size_beyond_memory(c):
    with_training_field(c.suite.checkpoint, c.path("bad.safetensors"), batch_size=65536)
    arch = c.path("wide.json")
    with open(arch, "w") as f:
        json.dump(WIDE_ARCH, f)
    # The SimpleCNN at batch 65,536 may fit a large machine; the wide network never does at 64.
    c.fails(["train", "--arch-file", arch, "--subset", 64, "--epochs", 1, "--output", "w.safetensors"], "memory")


WIDE_ARCH = {"input": [3, 32, 32], "layers": [
    {"type": "conv", "name": "c1", "out": 65536, "kernel": 3, "padding": 1}, {"type": "relu"},
    {"type": "conv", "name": "c2", "out": 16, "kernel": 1}, {"type": "global-avgpool"}, {"type": "flatten"},
    {"type": "linear", "name": "fc", "out": 10}]}


@case("crash")
def architecture_activations_beyond_memory_in_a_study(c):
    arch = c.path("wide.json")
    with open(arch, "w") as f:
        json.dump(WIDE_ARCH, f)
    c.fails(["experiment", "--arch-file", arch, "--epochs", 1, "--output", "exp"], "memory")
    expect(not os.path.exists(c.path("exp")), "an output folder was left")


@case("crash")
def epochs_overflow(c):
    c.fails(["train", "--subset", 64, "--epochs", 2**62, "--output", "m.safetensors"], "--epochs")
    c.fails(["train", "--subset", 64, "--epochs", 2**62 + 1, "--warmup-epochs", 2**62, "--lr-schedule", "cosine",
             "--output", "m.safetensors"], "epochs")
    c.fails(["train", "--subset", 64, "--epochs", 3, "--warmup-epochs", 2**63 - 1, "--output", "m.safetensors"], "--warmup-epochs")
    c.fails(["train", "--subset", 64, "--epochs", 3, "--lr-schedule", "step", "--lr-step-epochs", str(2**63 - 1),
             "--output", "m.safetensors"], "--lr-step-epochs")


@case("crash")
def seed_overflow_with_seeds(c):
    c.fails(["experiment", "--seeds", 3, "--seed", 2**64 - 1, "--epochs", 1, "--output", "exp"], "--seed")
    c.fails(["experiment", "--seeds", 2, "--seed", 2**64, "--epochs", 1, "--output", "exp"])
    expect(not os.path.exists(c.path("exp")), "an output folder was left")


@case("crash")
def checkpoint_optimizer_step_overflow(c):
    with_training_field(c.suite.checkpoint, c.path("bad.safetensors"), optimizer_step=2**63 - 1)
    c.fails(["train", "--resume", "bad.safetensors", "--epochs", 2, "--output", "m.safetensors"])
    with_training_field(c.suite.checkpoint, c.path("bad2.safetensors"), epoch=2**62)
    c.fails(["train", "--resume", "bad2.safetensors", "--epochs", 2, "--output", "m.safetensors"])
    expect(not os.path.exists(c.path("m.safetensors")), "a model was written")


BAD_NUMBERS = ["-1", "0", "-0", "1e400", "nan", "inf", "-inf", str(2**63), str(2**64), str(-2**63 - 1), "9" * 40, "1.5", "x", ""]


@case("crash")
def every_number_flag_with_bad_values(c):
    """Each numeric flag of the commands that train, prune or study, with values that are out
    of range, overflow, are not numbers or are empty: a usage error, never a trap."""
    m = c.suite.model
    flags = [
        (["train", "--subset", 64, "--output", "m.safetensors"],
         ["--epochs", "--batch-size", "--lr", "--seed", "--subset", "--threads", "--warmup-epochs", "--lr-gamma",
          "--weight-decay", "--checkpoint-every", "--width-multiplier", "--classes"]),
        (["prune", "--model", m, "--layer", "conv2", "--output", "p.safetensors"],
         ["--k", "--finetune-epochs", "--batch-size", "--lr", "--iterative", "--timing-runs", "--max-layer-ratio"]),
        (["sweep", "--model", m, "--output", "s"], ["--finetune-epochs", "--batch-size", "--lr", "--threads"]),
        (["evaluate", "--model", m], ["--batch-size", "--timing-runs", "--threads"]),
        (["experiment", "--epochs", 1, "--output", "e"], ["--seeds", "--finetune-epochs", "--timing-runs", "--global-ratio"]),
    ]
    allowed_zero = {"--seed", "--warmup-epochs", "--weight-decay", "--finetune-epochs"}
    problems = []
    for base, names in flags:
        for name in names:
            for value in BAD_NUMBERS:
                if value in ("0", "-0") and name in allowed_zero:
                    continue
                if value == "1.5" and name in ("--lr", "--lr-gamma", "--weight-decay", "--width-multiplier", "--max-layer-ratio", "--global-ratio"):
                    continue
                if name == "--k" and value in ("0", "-0"):
                    continue
                if name == "--seed" and value == str(2**63):
                    continue   # a valid 64-bit seed
                if name in ("--lr", "--lr-gamma", "--weight-decay") and value in (str(2**63), str(2**64)):
                    continue   # a finite positive rate: legal (a run it makes diverge stops with a message)
                args = base + [f"{name}={value}"] if value == "" else base + [name, value]
                try:
                    c.fails(args)
                except Failure as failure:
                    problems.append(str(failure))
    expect(not problems, f"{len(problems)} accepted or unclear: " + " | ".join(problems[:6]))
    for name in ("s", "e", "m.safetensors", "p.safetensors"):
        expect(not os.path.exists(c.path(name)), f"{name} was left behind")


# ---------------------------------------------------------------------------------------------
# data-loss: output paths, temporary files, locks, mixed models

def train_quick(c, output, extra=()):
    return c.run(["train", "--subset", 64, "--epochs", 1, "--output", output] + list(extra))


@case("data-loss")
def output_symlink_keeps_the_link(c):
    target = c.victim("target.safetensors", b"old contents")
    os.symlink(target, c.path("link.safetensors"))
    rc, _, err = train_quick(c, "link.safetensors")
    expect(rc == 0, f"exit {rc}: {err.strip()[-300:]}")
    expect(os.path.islink(c.path("link.safetensors")), "the link was replaced by a file")
    header, _ = read_safetensors(target)
    expect("conv1.weight" in header, "the link's target does not hold the model")
    c.allowed_changes.add(os.path.join("victims", "target.safetensors"))


@case("data-loss")
def output_fifo_refused(c):
    os.makedirs(c.path("victims"), exist_ok=True)
    os.mkfifo(c.path("victims", "fifo"))
    c.fails(["train", "--subset", 64, "--epochs", 1, "--output", "victims/fifo"], "FIFO")
    c.fails(["evaluate", "--model", c.suite.model, "--predictions", "victims/fifo"], "FIFO")


@case("data-loss")
def output_device_refused(c):
    before = os.lstat("/dev/null")
    c.fails(["train", "--subset", 64, "--epochs", 1, "--output", "/dev/null"], "device")
    c.fails(["export", "--model", c.suite.model, "--output", "/dev/null"], "device")
    after = os.lstat("/dev/null")
    expect(stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev, "/dev/null is no longer the device")


@case("data-loss")
def output_folder_refused(c):
    os.makedirs(c.path("victims", "folder"), exist_ok=True)
    c.victim("folder/keep.txt")
    c.fails(["train", "--subset", 64, "--epochs", 1, "--output", "victims/folder"], "folder")


@case("data-loss")
def planted_links_at_temporary_names(c):
    target = c.victim("precious.txt")
    # The old, predictable name was `.NAME.PID.tmp`: plant links for the next few hundred pids.
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            last = int(f.read())
    except OSError:
        last = os.getpid()
    for pid in range(last, last + 400):
        os.symlink(target, c.path(f".m.safetensors.{pid}.tmp"))
    rc, _, err = train_quick(c, "m.safetensors")
    expect(rc == 0, f"exit {rc}: {err.strip()[-300:]}")
    read_safetensors(c.path("m.safetensors"))
    for name in os.listdir(c.folder):
        if name.startswith(".m.safetensors.") and name.endswith(".tmp"):
            os.unlink(c.path(name))


@case("data-loss")
def checkpoint_and_output_at_one_path(c):
    shutil.copyfile(c.suite.checkpoint, c.path("victims", "ck.safetensors"))
    c.fails(["train", "--subset", 64, "--epochs", 2, "--checkpoint-every", 1, "--checkpoint", "victims/ck.safetensors",
             "--output", "victims/ck.safetensors"], "--checkpoint", "--output")
    c.fails(["train", "--resume", "victims/ck.safetensors", "--epochs", 2, "--output", "victims/ck.safetensors"], "--resume")


@case("data-loss")
def two_runs_into_one_folder(c):
    first = c.run(["sweep", "--model", c.suite.model, "--criterion", "l1,l2,random", "--k", "0:32:2", "--output", "shared"],
                  background=True)
    # The first run locks the folder right after creating it.
    deadline = time.time() + 60
    while not os.path.isdir(c.path("shared")) and time.time() < deadline and first.poll() is None:
        time.sleep(0.01)
    time.sleep(0.05)
    second = c.fails(["sweep", "--model", c.suite.model, "--criterion", "mean-activation", "--k", "0,2", "--output", "shared"],
                     "another cnnprune run")
    out, err = first.communicate(timeout=600)
    c.note_exit(first.returncode, ["sweep (first)"], err)
    expect(first.returncode == 0, f"the first run failed: {err.strip()[-300:]}")
    with open(c.path("shared", "sweep.json")) as f:
        sweep = json.load(f)
    with open(c.path("shared", "sweep.csv")) as f:
        header = f.readline()
    names = json.dumps(sweep)
    expect("mean-activation" not in names and "l1" in names, "sweep.json holds the second run's criteria")
    expect("l1" in header or "criterion" in header, f"sweep.csv header {header!r}")


@case("data-loss")
def models_of_two_architectures(c):
    mixed = f"{c.suite.model},{c.suite.half_model}"
    c.fails(["sweep", "--model", mixed, "--k", "0,2", "--output", "s"], "architecture")
    c.fails(["sensitivity", "--model", mixed, "--output", "t"], "architecture")
    c.fails(["prune", "--model", mixed, "--layer", "conv2", "--k", 2, "--output", "p.safetensors"], "architecture")
    for name in ("s", "t", "p.safetensors", "p-0.safetensors"):
        expect(not os.path.exists(c.path(name)), f"{name} was left behind")


@case("data-loss")
def interrupted_runs_leave_no_temporary_files(c):
    shutil.copyfile(c.suite.model, c.path("m.safetensors"))
    c.allowed_changes.add("m.safetensors")
    c.allowed_changes.add("m.checkpoint.safetensors")
    c.allowed_signals.update({signal.SIGINT, signal.SIGTERM})
    for attempt, delay in enumerate([0.6, 0.9, 1.2, 1.5, 1.8, 2.1]):
        process = c.run(["train", "--subset", 64, "--epochs", 50, "--checkpoint-every", 1, "--output", "m.safetensors"],
                        background=True)
        time.sleep(delay)
        process.send_signal(signal.SIGINT if attempt % 2 == 0 else signal.SIGTERM)
        out, err = process.communicate(timeout=120)
        c.note_exit(process.returncode, ["train (interrupted)"], err)
        leftovers = temporary_files(c.folder)
        expect(not leftovers, f"temporary files left after a signal: {leftovers}")
        read_safetensors(c.path("m.safetensors"))
        if os.path.exists(c.path("m.checkpoint.safetensors")):
            read_safetensors(c.path("m.checkpoint.safetensors"))


@case("data-loss")
def stale_temporary_files_are_removed(c):
    host = os.uname().nodename.split(".")[0]
    host = "".join(ch for ch in host if ch.isascii() and ch.isalnum())[:32] or "host"
    # A pid that does not exist: above the kernel's pid_max.
    with open("/proc/sys/kernel/pid_max") as f:
        dead = int(f.read()) + 1
    stale = c.path(f".m.safetensors.cnnprune-{host}-{dead}-AAAAAAAAAAAAAAAA.tmp")
    with open(stale, "wb") as f:
        f.write(b"half-written")
    elsewhere = c.path(f".m.safetensors.cnnprune-otherhost-{dead}-BBBBBBBBBBBBBBBB.tmp")
    with open(elsewhere, "wb") as f:
        f.write(b"another host's")
    rc, _, err = train_quick(c, "m.safetensors")
    expect(rc == 0, f"exit {rc}: {err.strip()[-300:]}")
    expect(not os.path.exists(stale), "a dead run's temporary file was not removed")
    expect(os.path.exists(elsewhere), "another host's temporary file was removed")
    os.unlink(elsewhere)


# ---------------------------------------------------------------------------------------------
# silent: resume, safetensors, data readers

@case("silent")
def resume_with_another_subset(c):
    c.fails(["train", "--resume", c.suite.checkpoint, "--epochs", 2, "--subset", 1000, "--output", "m.safetensors"], "--subset")
    c.fails(["train", "--resume", c.suite.checkpoint, "--epochs", 2, "--seed", 7, "--output", "m.safetensors"], "--seed")
    c.fails(["train", "--resume", c.suite.checkpoint, "--epochs", 2, "--batch-size", 32, "--output", "m.safetensors"], "--batch-size")
    c.fails(["train", "--resume", c.suite.checkpoint, "--epochs", 2, "--optimizer", "sgd", "--output", "m.safetensors"], "--optimizer")


@case("silent")
def resume_uses_the_recorded_subset(c):
    # Two epochs straight against one epoch, then a resume that does not repeat --subset.
    c.succeeds(["train", "--subset", 96, "--epochs", 2, "--seed", 3, "--output", "straight.safetensors"])
    c.succeeds(["train", "--subset", 96, "--epochs", 1, "--seed", 3, "--checkpoint-every", 1, "--output", "half.safetensors"])
    c.succeeds(["train", "--resume", "half.checkpoint.safetensors", "--epochs", 2, "--output", "resumed.safetensors"])
    a, da = read_safetensors(c.path("straight.safetensors"))
    b, db = read_safetensors(c.path("resumed.safetensors"))
    expect(da == db, "the resumed run's weights differ from the uninterrupted run's")


@case("silent")
def duplicate_tensor_names(c):
    header, data = read_safetensors(c.suite.model)
    text = json.dumps(header)
    name = "fc2.bias"
    entry = json.dumps(header[name])
    # The same name twice in the JSON object: the first entry points at another tensor's bytes.
    other = json.dumps(header["fc2.weight"])
    text = text.replace(f'"{name}": {entry}', f'"{name}": {other}, "{name}": {entry}', 1)
    write_safetensors(c.path("dup.safetensors"), text, data)
    c.fails(["evaluate", "--model", "dup.safetensors"], "duplicate")


@case("silent")
def float_weights_labelled_as_integers(c):
    header, data = read_safetensors(c.suite.model)
    header["conv1.weight"]["dtype"] = "I32"
    write_safetensors(c.path("i32.safetensors"), json.dumps(header), data)
    c.fails(["evaluate", "--model", "i32.safetensors"], "conv1.weight")


@case("silent")
def cifar_file_truncated_on_a_record_boundary(c):
    data = c.path("cifar")
    os.makedirs(data)
    for name in os.listdir(c.suite.data):
        if name != "test_batch.bin":
            os.symlink(os.path.join(c.suite.data, name), os.path.join(data, name))
    with open(os.path.join(c.suite.data, "test_batch.bin"), "rb") as f:
        head = f.read(9999 * RECORD)
    with open(os.path.join(data, "test_batch.bin"), "wb") as f:
        f.write(head)
    c.fails(["evaluate", "--model", c.suite.model, "--data", data], "test_batch.bin")


@case("silent")
def corrupt_jpeg_entropy_data(c):
    jpeg = c.suite.jpeg_bytes
    if jpeg is None:
        raise Skip("no JPEG encoder (Pillow) to make the case's images")
    folder = c.path("images")
    for split in ("train", "test"):
        for label in ("cats", "dogs"):
            os.makedirs(os.path.join(folder, split, label))
            for i in range(4):
                with open(os.path.join(folder, split, label, f"{i}.jpg"), "wb") as f:
                    f.write(jpeg)
    start = jpeg.index(b"\xff\xda")
    corrupt = bytearray(jpeg)
    for i in range(start + 20, len(corrupt) - 2, 7):
        corrupt[i] = 0xFF if corrupt[i] != 0xFF else 0x00
    corrupt = bytes(corrupt[:len(corrupt) * 2 // 3]) + b"\xff\xd9"
    with open(os.path.join(folder, "test", "dogs", "3.jpg"), "wb") as f:
        f.write(corrupt)
    c.fails(["train", "--dataset", "folder", "--data", folder, "--epochs", 1, "--output", "f.safetensors"], "3.jpg")


class Skip(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# other: downloads, messages

@case("other")
def download_without_size_cap(c):
    c.fails(["download", "--data", "d", "--url", "file:///dev/zero"], timeout=300)
    expect(not os.path.exists(c.path("d")), "the download left its destination")
    leftovers = [n for n in os.listdir(c.folder) if n not in ("victims",)]
    expect(not leftovers, f"the download left {leftovers}")


@case("other")
def device_as_a_model(c):
    c.fails(["evaluate", "--model", "/dev/null"], "character device")
    c.fails(["prune", "--model", "/dev/null", "--layer", "conv2", "--k", 2, "--output", "p.safetensors"], "character device")


@case("other")
def symlink_loop_as_a_model(c):
    os.symlink("loop-b", c.path("loop-a"))
    os.symlink("loop-a", c.path("loop-b"))
    c.fails(["evaluate", "--model", "loop-a"], "symbolic links")


@case("other")
def negative_numbers_are_values(c):
    c.fails(["prune", "--model", c.suite.model, "--layer", "conv2", "--k", "-1", "--output", "p.safetensors"], "--k must be at least 1")
    c.fails(["sweep", "--model", c.suite.model, "--k", "-1", "--output", "s"], "-1")
    c.fails(["train", "--subset", 64, "--epochs", "-3", "--output", "m.safetensors"], "--epochs")
    c.fails(["train", "--subset", 64, "--lr", "-0.1", "--output", "m.safetensors"], "--lr")


@case("other")
def truncated_and_random_models(c):
    with open(c.suite.model, "rb") as f:
        raw = f.read()
    for name, data in [("trunc.safetensors", raw[:len(raw) // 2]), ("empty.safetensors", b""),
                       ("random.safetensors", os.urandom(4096)), ("header.safetensors", struct.pack("<Q", 2**63) + b"{}")]:
        with open(c.path(name), "wb") as f:
            f.write(data)
        c.fails(["evaluate", "--model", name], name)


# ---------------------------------------------------------------------------------------------

class Suite:
    def __init__(self, binary, data, work):
        self.binary, self.data, self.work = binary, data, work
        self.jpeg_bytes = None
        self.invocations = 0

    def prepare(self):
        """The shared fixtures: a SimpleCNN (and its training checkpoint), one of half width."""
        fixtures = os.path.join(self.work, "fixtures")
        os.makedirs(fixtures, exist_ok=True)
        self.model = os.path.join(fixtures, "m.safetensors")
        self.checkpoint = os.path.join(fixtures, "m.checkpoint.safetensors")
        self.half_model = os.path.join(fixtures, "half.safetensors")
        env = dict(os.environ, CIFAR10_DIR=self.data)
        for args in (["train", "--subset", 256, "--epochs", 1, "--checkpoint-every", 1, "--output", self.model],
                     ["train", "--subset", 64, "--epochs", 1, "--width-multiplier", 0.5, "--output", self.half_model]):
            subprocess.run([self.binary] + [str(a) for a in args], env=env, check=True, capture_output=True, timeout=600)
        try:
            import io
            from PIL import Image
            image = Image.new("RGB", (16, 16))
            image.putdata([((x * 16) % 256, (y * 16) % 256, (x * y) % 256) for y in range(16) for x in range(16)])
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=90)
            self.jpeg_bytes = buffer.getvalue()
        except ImportError:
            pass

    def run_case(self, name, klass, function):
        folder = os.path.join(self.work, "cases", name)
        os.makedirs(folder)
        os.makedirs(os.path.join(folder, "victims"))
        context = Context(self, folder)
        context.allowed_changes = set()
        fixtures_before = snapshot(os.path.join(self.work, "fixtures"))
        victims_before = snapshot(folder)
        try:
            function(context)
        except Skip as why:
            return "skip", str(why)
        except (Failure, AssertionError, subprocess.TimeoutExpired, OSError, ValueError, KeyError) as why:
            return "fail", f"{type(why).__name__}: {why}"
        finally:
            pass
        problems = list(context.crashes)
        victims_after = snapshot(folder)
        for rel, entry in victims_before.items():
            if rel in context.allowed_changes:
                continue
            if victims_after.get(rel) != entry:
                problems.append(f"{rel} was {'removed' if rel not in victims_after else 'changed'}")
        if snapshot(os.path.join(self.work, "fixtures")) != fixtures_before:
            problems.append("the shared fixtures were changed")
        leftovers = temporary_files(folder) + temporary_files(self.work + "/fixtures")
        if leftovers:
            problems.append(f"temporary files left: {leftovers}")
        return ("fail", "; ".join(problems)) if problems else ("pass", "")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", help="CIFAR-10 binary folder")
    parser.add_argument("--cnnprune", default=".build/release/cnnprune")
    parser.add_argument("--work-dir")
    parser.add_argument("--only", help="comma-separated case names")
    a = parser.parse_args()
    if not os.path.exists(os.path.join(a.data, "test_batch.bin")):
        print(f"hostile_check: no CIFAR-10 test_batch.bin in {a.data!r}")
        return 1
    work = a.work_dir or tempfile.mkdtemp(prefix="cnnprune-hostile-")
    suite = Suite(os.path.abspath(a.cnnprune), os.path.abspath(a.data), work)
    started = time.time()
    suite.prepare()
    wanted = set(a.only.split(",")) if a.only else None
    passed = failed = skipped = 0
    classes = {}
    for name, klass, function in CASES:
        if wanted and name not in wanted:
            continue
        outcome, detail = suite.run_case(name, klass, function)
        print(f"hostile_check: {outcome:4s} [{klass}] {name}{': ' + detail if detail else ''}", flush=True)
        classes.setdefault(klass, 0)
        if outcome == "pass":
            passed += 1
            classes[klass] += 1
        elif outcome == "skip":
            skipped += 1
        else:
            failed += 1
    if not a.work_dir:
        shutil.rmtree(work, ignore_errors=True)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(classes.items()))
    print(f"hostile_check: {time.time() - started:.0f} s, {suite.invocations} runs of cnnprune; cases passed per class: {summary}")
    print(f"hostile_check: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
