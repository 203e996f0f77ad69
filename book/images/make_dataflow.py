"""Draw the data-flow figures of DDPG, TD3 and SAC (chapters 1, 11 and 12) into book/images/.

Each algorithm is a table of boxes and a table of arrows; one drawing function draws all three,
then checks the picture: no label overlaps a box, an arrow or another label, no arrow runs
through a box or crosses another arrow, and every box's text fits inside its box.

Run from the repository root:  .venv/bin/python book/images/make_dataflow.py [PNG_FOLDER]
(with a folder, it also writes a PNG twin of each figure there, to look at).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path as MPath

INCH = 0.62  # inches per unit of the drawing: the same scale in every figure
W, H = 2.8, 1.1  # a box's default width and height
X = (1.4, 5.4, 9.4, 13.4)  # column centres
Y = (6.4, 4.0, 1.6, -0.8)  # row centres
COLOURS = {"env": "#d9ead3", "net": "#cfe2f3", "target": "#ead1dc", "data": "#fff2cc",
           "loss": "#f4cccc", "alpha": "#d9d2e9"}

# Targets span the two right-hand columns, so that the critics' soft update rises straight
# into them and the actor's arrow reaches their right side.
TW = X[3] + W / 2 - (X[2] - W / 2)
TX = X[2] - W / 2 + TW / 2
TARG = r"\mathrm{targ}"  # the subscript of the target networks


def boxes_common(actor: str, acting: str) -> dict:
    """The boxes every algorithm has: name -> (x, y, label, colour, options)."""
    return {
        "env": (X[0], Y[0], "environment\n(Pendulum-v1)", "env", {}),
        "acting": (X[1], Y[0], acting, "net", {}),
        "buffer": (X[0], Y[1], r"replay buffer $\mathcal{D}$" + "\n" + r"$(s, a, r, s', d)$",
                   "data", {}),
        "batch": (X[1], Y[1], r"batch of $B$" + "\ntransitions", "data", {}),
        "actor": (X[3], Y[2], actor + "\n(the same network)", "net", {}),
    }


# An arrow: (points, label, label position, label alignment, dashed). The points run from
# start to end: (x, y), where None repeats the previous point's coordinate so that segments
# stay horizontal or vertical, or (box, side, offset), a point on a box's side. The alignment
# is the label's (ha, va) at its position.
def arrows_common(step_label: str) -> list:
    """The arrows every algorithm has: acting, storing, sampling, the critic's step."""
    return [
        ([(2.8, 6.6), (4.0, 6.6)], r"state $s$", (3.4, 6.72), ("center", "bottom"), False),
        ([(4.0, 6.2), (2.8, 6.2)], r"action $a$", (3.4, 6.08), ("center", "top"), False),
        ([(1.4, 5.85), (1.4, 4.55)], "every step:\n" + r"$(s, a, r, s', d)$", (1.55, 5.2),
         ("left", "center"), False),
        ([(2.8, 4.0), (4.0, 4.0)], "sample", (3.4, 4.12), ("center", "bottom"), False),
        ([(6.8, 3.75), (8.0, 3.75)], r"$s, a$", (7.4, 3.63), ("center", "top"), False),
        ([("batch", "E", 0.3), (7.4, None), (None, 6.4), ("targets", "W", 0.0)], r"$r, s', d$",
         (7.25, 5.2), ("right", "center"), False),
        ([("targets", "S", X[2] - TX), ("critic_loss", "N", 0.0)], r"target $y$", (9.55, 5.2),
         ("left", "center"), False),
        ([(10.8, 4.0), (12.0, 4.0)], "step", (11.4, 4.12), ("center", "bottom"), False),
        ([(5.4, 3.45), (None, 1.6), (8.0, None)], r"states $s$", (6.7, 1.72),
         ("center", "bottom"), False),
        ([(10.8, 1.4), (12.0, 1.4)], step_label, (11.4, 1.28), ("center", "top"), False),
    ]


def critic_to_targets(label: str) -> tuple:
    """The critics' soft update, straight up into the targets."""
    return ([("critic", "N", 0.0), ("targets", "S", X[3] - TX)], label, (X[3] - 0.15, 5.2),
            ("right", "center"), False)


def actor_to_targets(label: str) -> tuple:
    """The actor's arrow into the targets, round the right of the critics."""
    return ([("actor", "E", 0.0), (15.6, None), (None, 6.4), ("targets", "E", 0.0)], label,
            (15.47, 4.0), ("right", "center"), False)


def critic_to_actor_loss(label: str, pair: bool = False) -> tuple:
    """The critics' value of the actor's action, into the actor loss (dashed); from the
    second box of a pair, which lies below the first."""
    start = ("critic (second)", "S", -0.94) if pair else ("critic", "S", -0.8)
    return ([start, (None, 2.8), (10.2, None), ("actor_loss", "N", 0.8)], label,
            (11.4, 2.92), ("center", "bottom"), True)


def actor_to_actor_loss(label: str) -> tuple:
    """The actor's action at the batch's states, into the actor loss."""
    return ([(12.0, 1.8), (10.8, 1.8)], label, (11.4, 1.92), ("center", "bottom"), False)


DDPG = {
    "boxes": {
        **boxes_common(r"actor $\mu_\theta$", r"actor $\mu_\theta$" + "\n+ exploration noise"),
        "targets": (TX, Y[0], "target networks " + rf"$\mu_{{\theta_{TARG}}}$, "
                    rf"$Q_{{\phi_{TARG}}}$" + "\n"
                    rf"$y = r + \gamma\,(1 - d)\,Q_{{\phi_{TARG}}}"
                    rf"(s', \mu_{{\theta_{TARG}}}(s'))$", "target", {"w": TW}),
        "critic_loss": (X[2], Y[1], "critic loss\n" + r"$(Q_\phi(s,a) - y)^2$", "loss", {}),
        "critic": (X[3], Y[1], r"critic $Q_\phi$", "net", {}),
        "actor_loss": (X[2], Y[2], "actor loss\n" + r"$-Q_\phi(s, \mu_\theta(s))$", "loss", {}),
    },
    "arrows": [
        *arrows_common("step"),
        critic_to_targets(r"slowly, rate $\tau$"),
        actor_to_targets(r"$\tau$"),
        critic_to_actor_loss(r"$Q_\phi$"),
        actor_to_actor_loss(r"$\mu_\theta(s)$"),
    ],
}

#: The twin critics and their loss, as TD3 and SAC share them.
TWIN_CRITICS = {
    "critic_loss": (X[2], Y[1], "critic loss\n" + r"${\sum}_j (Q_{\phi_j}(s,a) - y)^2$",
                    "loss", {}),
    "critic": (X[3], Y[1], r"critics $Q_{\phi_1}$, $Q_{\phi_2}$", "net", {"twin": True}),
}

TD3 = {
    "boxes": {
        **boxes_common(r"actor $\mu_\theta$", r"actor $\mu_\theta$" + "\n+ exploration noise"),
        "targets": (TX, Y[0], "target networks " + rf"$\mu_{{\theta_{TARG}}}$, "
                    rf"$Q_{{\phi_{{{TARG},1}}}}$, $Q_{{\phi_{{{TARG},2}}}}$" + "\n"
                    rf"$y = r + \gamma\,(1 - d)\,\operatorname{{min}}_j Q_{{\phi_{{{TARG},j}}}}"
                    r"(s', \tilde a')$" + "\n"
                    rf"$\tilde a' = \mu_{{\theta_{TARG}}}(s')$ + clipped noise",
                    "target", {"w": TW, "h": 1.5}),
        **TWIN_CRITICS,
        "actor_loss": (X[2], Y[2], "actor loss\n" + r"$-Q_{\phi_1}(s, \mu_\theta(s))$" + "\n"
                       r"every $\delta$-th update", "loss", {"h": 1.5}),
    },
    "arrows": [
        *arrows_common("step"),
        critic_to_targets("slowly, rate " + r"$\tau$," + "\n" + r"every $\delta$-th update"),
        actor_to_targets(r"$\tau$"),
        critic_to_actor_loss(r"$Q_{\phi_1}$ only", pair=True),
        actor_to_actor_loss(r"$\mu_\theta(s)$"),
    ],
}

SAC = {
    "boxes": {
        **boxes_common(r"actor $\pi_\theta$", r"actor $\pi_\theta$, sampling" + "\n"
                       r"$a \sim \pi_\theta(\cdot \mid s)$"),
        "targets": (TX, Y[0], "target critics "
                    rf"$Q_{{\phi_{{{TARG},1}}}}$, $Q_{{\phi_{{{TARG},2}}}}$" + "\n"
                    rf"$y = r + \gamma\,(1 - d)\,(\operatorname{{min}}_j Q_{{\phi_{{{TARG},j}}}}"
                    r"(s', a') - \alpha\,\log \pi_\theta(a' \mid s'))$" + "\n"
                    r"$a' \sim \pi_\theta(\cdot \mid s')$ from the current actor",
                    "target", {"w": TW, "h": 1.5}),
        **TWIN_CRITICS,
        "actor_loss": (X[2], Y[2], "actor loss\n"
                       r"$\alpha\,\log \pi_\theta(\tilde a \mid s)$" + "\n"
                       r"$-\ \operatorname{min}_j Q_{\phi_j}(s, \tilde a)$", "loss", {"h": 1.5}),
        "alpha": (X[2], Y[3], r"temperature $\alpha$", "alpha", {}),
        "alpha_loss": (X[3], Y[3], "temperature loss\n"
                       r"$-\log\alpha\,(\log \pi_\theta(\tilde a \mid s) + \bar{\mathcal{H}})$",
                       "loss", {}),
    },
    "arrows": [
        *arrows_common("step"),
        critic_to_targets(r"slowly, rate $\tau$"),
        actor_to_targets(r"$a'$"),
        critic_to_actor_loss(r"$Q_{\phi_1}$, $Q_{\phi_2}$", pair=True),
        actor_to_actor_loss(r"$\tilde a$"),
        ([("actor", "S", 0.0), ("alpha_loss", "N", 0.0)], r"$\log \pi_\theta(\tilde a \mid s)$",
         (13.55, 0.4), ("left", "center"), False),
        ([(12.0, Y[3]), (10.8, None)], "step", (11.4, Y[3] + 0.12), ("center", "bottom"),
         False),
        ([("alpha", "N", 0.0), ("actor_loss", "S", 0.0)], r"$\alpha$", (9.55, 0.4),
         ("left", "center"), False),
        ([("alpha", "S", 0.0), (None, -1.9), (16.4, None), (None, 6.75), ("targets", "E", 0.35)],
         r"$\alpha$", (16.55, 2.4), ("left", "center"), False),
    ],
}

FIGURES = {"ddpg": DDPG, "td3": TD3, "sac": SAC}


def anchor(rect: tuple, side: str, offset: float) -> tuple:
    """The point of a box's side ("N", "S", "E" or "W") at an offset from its middle."""
    left, bottom, right, top = rect
    middle = ((left + right) / 2, (bottom + top) / 2)
    return {"N": (middle[0] + offset, top), "S": (middle[0] + offset, bottom),
            "E": (right, middle[1] + offset), "W": (left, middle[1] + offset)}[side]


def resolve(points: list, rects: dict) -> np.ndarray:
    """An arrow's points: (box, side, offset) is a point on a box's side; None repeats the
    previous point's coordinate, so that segments stay horizontal or vertical."""
    out = []
    for point in points:
        x, y = anchor(rects[point[0]], *point[1:]) if isinstance(point[0], str) else point
        px, py = out[-1] if out else (x, y)
        out.append((px if x is None else x, py if y is None else y))
    return np.array(out, dtype=float)


def rounded(points: np.ndarray, radius: float = 0.25) -> MPath:
    """A path through the points whose corners are rounded with quadratic curves."""
    verts, codes = [points[0]], [MPath.MOVETO]
    for before, corner, after in zip(points[:-2], points[1:-1], points[2:]):
        d_in, d_out = corner - before, after - corner
        r = min(radius, np.linalg.norm(d_in) / 2, np.linalg.norm(d_out) / 2)
        verts += [corner - r * d_in / np.linalg.norm(d_in), corner,
                  corner + r * d_out / np.linalg.norm(d_out)]
        codes += [MPath.LINETO, MPath.CURVE3, MPath.CURVE3]
    verts.append(points[-1])
    codes.append(MPath.LINETO)
    return MPath(verts, codes)


SHADOW = (0.14, -0.14)  # where the second of a pair of networks is drawn, behind the first


def box_rect(x: float, y: float, options: dict) -> tuple:
    w, h = options.get("w", W), options.get("h", H)
    return x - w / 2, y - h / 2, x + w / 2, y + h / 2


def rectangles(spec: dict) -> dict:
    """Every box's rectangle (left, bottom, right, top), a pair's second box included."""
    rects = {}
    for name, (x, y, _, _, opt) in spec["boxes"].items():
        rects[name] = box_rect(x, y, opt)
        if opt.get("twin"):
            rects[name + " (second)"] = box_rect(x + SHADOW[0], y + SHADOW[1], opt)
    return rects


def draw(spec: dict) -> tuple:
    """The figure of one algorithm, with what the checks need: boxes, texts, arrows."""
    rects = rectangles(spec)
    paths = [resolve(points, rects) for points, *_ in spec["arrows"]]
    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    box_texts = {}
    for name, (x, y, label, colour, _) in spec["boxes"].items():
        for key in (name + " (second)", name):  # the second box first: it lies behind
            if key in rects:
                left, bottom, right, top = rects[key]
                ax.add_patch(FancyBboxPatch((left, bottom), right - left, top - bottom,
                                            boxstyle="round,pad=0,rounding_size=0.08",
                                            fc=COLOURS[colour], ec="0.3"))
        box_texts[name] = ax.text(x, y, label, ha="center", va="center", fontsize=9,
                                  linespacing=1.5)
    labels = []
    for points, (_, label, where, (ha, va), dashed) in zip(paths, spec["arrows"]):
        ax.add_patch(FancyArrowPatch(path=rounded(points), arrowstyle="-|>", mutation_scale=12,
                                     shrinkA=0, shrinkB=0, color="0.25", lw=1.2,
                                     linestyle="--" if dashed else "-"))
        labels.append(ax.text(*where, label, ha=ha, va=va, fontsize=8.5))
    # The drawing's extent, labels included, at INCH inches per unit: fix a scale, measure
    # the texts in it, then size the figure to hold everything.
    corners = [np.array([[r[0], r[1]], [r[2], r[3]]]) for r in rects.values()] + paths
    low, high = np.vstack(corners).min(axis=0), np.vstack(corners).max(axis=0)
    fig.set_size_inches(*((high - low) * INCH))
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    spans = np.array([extent(ax, t) for t in labels])
    low = np.minimum(low, spans[:, :2].min(axis=0)) - 0.1
    high = np.maximum(high, spans[:, 2:].max(axis=0)) + 0.1
    fig.set_size_inches(*((high - low) * INCH))
    ax.set_xlim(low[0], high[0])
    ax.set_ylim(low[1], high[1])
    return fig, ax, rects, box_texts, paths, labels


def extent(ax, text) -> np.ndarray:
    """A text's bounding box in data units: (left, bottom, right, top)."""
    window = text.get_window_extent(ax.figure.canvas.get_renderer())
    return ax.transData.inverted().transform(window).ravel()


def dense(points: np.ndarray, step: float = 0.02) -> np.ndarray:
    out = [np.linspace(a, b, max(2, int(np.linalg.norm(b - a) / step)))
           for a, b in zip(points[:-1], points[1:])]
    return np.vstack(out)


def inside(p: np.ndarray, rect, pad: float) -> np.ndarray:
    left, bottom, right, top = rect
    return ((p[:, 0] > left - pad) & (p[:, 0] < right + pad)
            & (p[:, 1] > bottom - pad) & (p[:, 1] < top + pad))


def meet(a, b, pad: float = 0.0) -> bool:
    return not (a[2] + pad <= b[0] or b[2] + pad <= a[0]
                or a[3] + pad <= b[1] or b[3] + pad <= a[1])


def crossing(p: np.ndarray, q: np.ndarray) -> bool:
    """Whether two polylines of horizontal and vertical segments cross."""
    for a, b in zip(p[:-1], p[1:]):
        for c, d in zip(q[:-1], q[1:]):
            if (a[0] == b[0]) != (c[0] == d[0]):  # one vertical, one horizontal
                (v0, v1), (h0, h1) = ((a, b), (c, d)) if a[0] == b[0] else ((c, d), (a, b))
                if (min(h0[0], h1[0]) < v0[0] < max(h0[0], h1[0])
                        and min(v0[1], v1[1]) < h0[1] < max(v0[1], v1[1])):
                    return True
    return False


def check(ax, rects, box_texts, paths, labels) -> list[str]:
    """What is wrong: a label overlaps a box, an arrow or a label, an arrow runs through a box or
    crosses an arrow, or a box's text leaves its box."""
    problems = []
    boxes = dict(rects)
    for key, text in box_texts.items():
        left, bottom, right, top = extent(ax, text)
        bl, bb, br, bt = rects[key]
        if not (left > bl + 0.1 and right < br - 0.05 and bottom > bb + 0.03
                and top < bt - 0.03):
            problems.append(f"the text of box {key} leaves its box")
    spans = [extent(ax, t) for t in labels]
    for i, (span, text) in enumerate(zip(spans, labels)):
        tag = repr(text.get_text())
        for key, rect in boxes.items():
            if meet(span, rect, pad=0.06):
                problems.append(f"label {tag} overlaps box {key}")
        for j, points in enumerate(paths):
            if inside(dense(points), span, pad=0.06).any():
                problems.append(f"label {tag} overlaps arrow {j}")
        for other, o in zip(spans[i + 1:], labels[i + 1:]):
            if meet(span, other, pad=0.06):
                problems.append(f"label {tag} overlaps label {o.get_text()!r}")
    for j, points in enumerate(paths):
        inner = dense(points)[3:-3]
        for key, rect in boxes.items():
            if inside(inner, rect, pad=-0.02).any():
                problems.append(f"arrow {j} runs through box {key}")
        for k in range(j + 1, len(paths)):
            if crossing(points, paths[k]):
                problems.append(f"arrows {j} and {k} cross")
    return problems


def main() -> None:
    png_folder = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    failed = False
    for name, spec in FIGURES.items():
        fig, ax, rects, box_texts, paths, labels = draw(spec)
        if png_folder:
            fig.savefig(png_folder / f"{name}_dataflow.png", dpi=150)
        problems = check(ax, rects, box_texts, paths, labels)
        if problems:
            failed = True
            print(f"{name}, not written: " + "; ".join(problems), file=sys.stderr)
            continue
        out = Path(__file__).with_name(f"{name}_dataflow.svg")
        with rc_context({"svg.hashsalt": "dataflow"}):  # the same file at every run
            fig.savefig(out, metadata={"Date": None})
        print(f"wrote {out}")
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
