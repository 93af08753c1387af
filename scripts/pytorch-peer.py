#!/usr/bin/env python3
"""PyTorch peer of one stage-1 ISAC_FJ training step (issue 19), for side-by-side timing.

The same work as `isac_learn::autoencoder::Trainer::step` on the shipped paper-003 scenario
(scenarios/tuan2025.toml: K = 2 users, Nt = 16 (4 x 4 UPA), Nr = 4 (2 x 2 UPA), Ne = 2, QPSK,
L = min(64, N) taps, FC encoder 78-256-128-96, batch 128 rows split into max(128 / N, 8) frames), written
the way a PyTorch user would write it, in complex64 tensors:

- fresh draws: operating points, users' and Eve's multipath taps (i.i.d. Rayleigh) and their
  DFT at the N subcarriers, messages, jamming symbols, receiver noise;
- zero-forcing directions and null-space projector of the channel (perfect CSI), the sensing
  operators dG/dtheta, dG/dphi at the target angles, the features of eq. (39);
- the encoder, ZF beams with learned gains, the FJ beam projected into the null space, the frame
  power budget (eq. 27), each user's received signal after AGC and its decoder;
- loss eq. (40): users' rates against Eve's log-det leakage, cross-entropy, the joint-CRLB hinge;
- backward and Adam (lr 1e-3).

Prints one JSON line: ms per step for each N, eager (and `torch.compile` of the loss with
`--compile`). Run with one thread to compare with `RAYON_NUM_THREADS=1 cargo xtask bench --json`:

    python3 scripts/pytorch-peer.py --threads 1
"""

import argparse
import json
import math
import time

import torch

K, NT, NE, NR, M = 2, 16, 2, 4, 4
TX_SHAPE, RX_SHAPE = (4, 4), (2, 2)
TAPS, BATCH = 64, 128
NOISE = 1.0
TARGET = (math.radians(10.0), math.radians(15.0))
P_DB, CRLB_DB = (0.0, 30.0), (-65.0, -30.0)
FIM_SCALE = 10 ** (-20.0 / 10) / 1.0 * 200  # |alpha|^2 / sigma_s^2 times T snapshots
FLOOR = 1e-15


def upa(shape, theta, phi):
    """a(theta, phi) and its partial derivatives (isac-channel's UPA), each [B, n]."""
    rows, cols = shape
    ox = torch.arange(rows, dtype=torch.float32) - (rows - 1) / 2
    oy = torch.arange(cols, dtype=torch.float32) - (cols - 1) / 2
    ox, oy = ox.repeat_interleave(cols), oy.repeat(rows)
    st, ct, sp, cp = theta.sin(), theta.cos(), phi.sin(), phi.cos()
    k = math.pi * 0.5
    ux, uy = (cp * st)[:, None], sp[:, None]
    a = torch.polar(torch.ones_like(ux * ox), k * (ox * ux + oy * uy))
    d_theta = a * (1j * k * ox * (cp * ct)[:, None])
    d_phi = a * (1j * k * (ox * (-sp * st)[:, None] + oy * cp[:, None]))
    return a, d_theta, d_phi


def outer(x, y):
    return x[:, :, None] * y[:, None, :].conj()


def draw(frames, n, generator):
    """One batch of fresh draws: every input of the step that is not a model weight."""
    rows = frames * n
    g = generator
    p_db = P_DB[0] + (P_DB[1] - P_DB[0]) * torch.rand(frames, generator=g)
    crlb_db = CRLB_DB[0] + (CRLB_DB[1] - CRLB_DB[0]) * torch.rand(frames, generator=g)
    taps = min(TAPS, n)  # the scenario's L, at most N (isac-channel's DelayLine)
    dft = torch.polar(
        torch.ones(n, taps),
        -2 * math.pi * torch.outer(torch.arange(n), torch.arange(taps)).float() / n,
    )

    def multipath(*shape):
        h = torch.randn(frames, taps, *shape, dtype=torch.complex64, generator=g)
        h = h / math.sqrt(taps)
        return torch.einsum("nl,bl...->bn...", dft, h).reshape(rows, *shape)

    users = multipath(K, NT)  # row k is h_k^H
    eve = multipath(NT, NE)
    with torch.no_grad():
        gram = users @ users.mH
        pinv = users.mH @ torch.linalg.inv(gram)  # [rows, Nt, K]
        zf = pinv / torch.linalg.vector_norm(pinv, dim=1, keepdim=True)
        projector = torch.eye(NT, dtype=torch.complex64) - pinv @ users
        theta = torch.full((frames,), TARGET[0])
        phi = torch.full((frames,), TARGET[1])
        a, at, ap = upa(TX_SHAPE, theta, phi)
        b, bt, bp = upa(RX_SHAPE, theta, phi)
        d_theta = (outer(bt, a) + outer(b, at)).repeat_interleave(n, 0)
        d_phi = (outer(bp, a) + outer(b, ap)).repeat_interleave(n, 0)
    messages = torch.randint(0, M, (rows, K), generator=g)
    one_hot = torch.nn.functional.one_hot(messages, M).float()
    per_row = lambda x: x.repeat_interleave(n)  # noqa: E731
    features = torch.cat(
        [
            users.real.reshape(rows, -1),
            users.imag.reshape(rows, -1),
            (per_row(p_db) / 30.0)[:, None].expand(rows, K),
            (per_row(crlb_db) / -30.0)[:, None],
            per_row(theta)[:, None],
            per_row(phi)[:, None],
            (torch.arange(n).repeat(frames).float() / n)[:, None],
            one_hot.reshape(rows, -1),
        ],
        1,
    )
    return {
        "frames": frames,
        "n": n,
        "features": features,
        "messages": messages,
        "users": users,
        "eve": eve,
        "zf": zf,
        "projector": projector,
        "d": (d_theta, d_phi),
        "power": 10 ** (p_db / 10) * NOISE,
        "log_crlb_max": crlb_db / 10 * math.log(10),
        "symbols": torch.randn(rows, 1, 1, dtype=torch.complex64, generator=g),
        "noise": torch.randn(rows, K, 1, dtype=torch.complex64, generator=g) * math.sqrt(NOISE),
    }


class Autoencoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        width = 2 * K * NT + K + 4 + K * M
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(width, 256),
            torch.nn.ReLU(),
            torch.nn.Linear(256, 128),
            torch.nn.ReLU(),
            torch.nn.Linear(128, 2 * (K + 1) * NT),
        )
        self.decoders = torch.nn.ModuleList(
            torch.nn.Sequential(torch.nn.Linear(2, 128), torch.nn.ReLU(), torch.nn.Linear(128, M))
            for _ in range(K)
        )

    def forward(self, d):
        frames, n = d["frames"], d["n"]
        rows = frames * n
        out = self.encoder(d["features"]).reshape(rows, 2, K + 1, NT).transpose(2, 3)
        u = torch.complex(out[:, 0], out[:, 1])  # [rows, Nt, K + 1]
        gain = u[:, :, :K].sum(1, keepdim=True) / math.sqrt(NT)
        beams = d["zf"] * gain
        candidate = d["projector"] @ u[:, :, K:]
        row_power = beams.abs().square().sum((1, 2)) + candidate.abs().square().sum((1, 2))
        frame = row_power.reshape(frames, n).mean(1)
        scale = (d["power"] / frame.clamp_min(FLOOR)).sqrt().repeat_interleave(n)[:, None, None]
        beams, jamming = beams * scale, candidate * scale
        h = d["users"]
        a, bj = h @ beams, h @ jamming
        s = a.abs().square()
        total = s.sum(2) + bj.abs().square().sum(2)
        user_rate = (total + NOISE).log() - (total - s.diagonal(dim1=1, dim2=2) + NOISE).log()
        e = d["eve"].mH
        g, w = e @ beams, e @ jamming
        cov = NOISE * torch.eye(NE, dtype=torch.complex64) + w @ w.mH
        chol = torch.linalg.cholesky(cov)
        x = torch.cholesky_solve(g, chol)
        eve_rate = (1 + (g.conj() * x).sum(1).real).log()
        secrecy = (user_rate - eve_rate).sum(1).mean()
        sent = beams.sum(2, keepdim=True) + jamming @ d["symbols"]
        y = (h @ sent + d["noise"]) / (total[:, :, None] + NOISE).sqrt()
        ce = 0
        for k, decoder in enumerate(self.decoders):
            logp = torch.log_softmax(decoder(torch.stack([y[:, k, 0].real, y[:, k, 0].imag], 1)), 1)
            ce = ce - logp.gather(1, d["messages"][:, k : k + 1]).mean()
        ce = ce / K
        columns = torch.cat([beams, jamming], 2)
        yt, yp = d["d"][0] @ columns, d["d"][1] @ columns
        fim = lambda t: t.reshape(frames, n).sum(1) * 2 * FIM_SCALE  # noqa: E731
        j_tt = fim(yt.abs().square().sum((1, 2)))
        j_pp = fim(yp.abs().square().sum((1, 2)))
        j_tp = fim((yt.conj() * yp).real.sum((1, 2)))
        prod = j_tt * j_pp
        det = torch.maximum(prod - j_tp.square(), prod * 1e-6).clamp_min(FLOOR).log()
        log_t = j_pp.clamp_min(FLOOR).log() - det
        log_p = j_tt.clamp_min(FLOOR).log() - det
        hinge = (log_t - d["log_crlb_max"]).clamp_min(0) + (log_p - d["log_crlb_max"]).clamp_min(0)
        return -secrecy + ce + hinge.mean()


def time_steps(n, timed, compile_loss):
    torch.manual_seed(2025)
    model = Autoencoder()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.compile(model) if compile_loss else model
    generator = torch.Generator().manual_seed(2025)
    frames = max(BATCH // n, 8) if n > 1 else BATCH

    def step():
        d = draw(frames, n, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(d)
        loss.backward()
        optimizer.step()
        return loss

    for _ in range(5 if not compile_loss else 10):
        step()
    started = time.perf_counter()
    for _ in range(timed):
        loss = step()
    if not math.isfinite(loss.item()):
        raise SystemExit("non-finite loss")
    return (time.perf_counter() - started) * 1e3 / timed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch": torch.__version__, "threads": args.threads}
    out["eager_ms"] = {"n1": time_steps(1, 200, False), "n64": time_steps(64, 40, False)}
    if args.compile:
        out["compiled_ms"] = {"n1": time_steps(1, 200, True), "n64": time_steps(64, 40, True)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
