"""Draw chapter 1's figure of DDPG's data flow: book/images/ddpg_dataflow.svg.

Run from the repository root:  .venv/bin/python book/images/make_dataflow.py
"""

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

W, H = 2.6, 1.0  # box width and height
BOXES = {  # name: (centre x, centre y, label, colour)
    "env": (1.3, 4.6, "environment\n(Pendulum-v1)", "#d9ead3"),
    "acting": (4.6, 4.6, r"actor $\mu_\theta$" + "\n+ exploration noise", "#cfe2f3"),
    "targets": (7.9, 4.6, "target networks\n" + r"$\mu_{\theta_\mathrm{targ}}$, "
                r"$Q_{\phi_\mathrm{targ}}$", "#ead1dc"),
    "buffer": (1.3, 2.6, r"replay buffer $\mathcal{D}$" + "\n" + r"$(s, a, r, s', d)$",
               "#fff2cc"),
    "batch": (4.6, 2.6, r"batch of $B$" + "\ntransitions", "#fff2cc"),
    "critic_loss": (7.9, 2.6, "critic loss\n" + r"$(Q_\phi(s,a) - y)^2$", "#f4cccc"),
    "critic": (11.2, 2.6, r"critic $Q_\phi$", "#cfe2f3"),
    "actor_loss": (7.9, 0.6, "actor loss\n" + r"$-Q_\phi(s, \mu_\theta(s))$", "#f4cccc"),
    "actor": (11.2, 0.6, r"actor $\mu_\theta$" + "\n(the same network)", "#cfe2f3"),
}
ARROWS = [  # (start, end, curvature, label, label position, dashed)
    ((2.6, 4.85), (3.3, 4.85), 0.0, r"state $s$", (2.95, 5.2), False),
    ((3.3, 4.35), (2.6, 4.35), 0.0, r"action $a$", (2.95, 4.0), False),
    ((1.3, 4.1), (1.3, 3.1), 0.0, "every step:\n" + r"$(s, a, r, s', d)$", (2.25, 3.6), False),
    ((2.6, 2.6), (3.3, 2.6), 0.0, "sample", (2.95, 2.95), False),
    ((5.9, 2.6), (6.6, 2.6), 0.0, "", None, False),
    ((7.9, 4.1), (7.9, 3.1), 0.0, r"target $y$", (8.55, 3.6), False),
    ((9.2, 2.6), (9.9, 2.6), 0.0, "step", (9.55, 2.95), False),
    ((4.6, 2.1), (6.6, 0.6), 0.25, r"states $s$", (5.2, 1.05), False),
    ((9.2, 0.6), (9.9, 0.6), 0.0, "step", (9.55, 0.95), False),
    ((10.5, 2.1), (8.9, 1.1), 0.0, r"$Q_\phi$", (10.2, 1.35), True),
    ((11.2, 3.1), (9.2, 4.6), 0.3, r"slowly, rate $\tau$", (10.9, 4.25), False),
    ((12.5, 0.6), (9.2, 4.85), 0.45, "", None, False),
]


def main() -> None:
    fig = Figure(figsize=(9.5, 4.6), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(-0.1, 12.9)
    ax.set_ylim(-0.05, 5.45)
    ax.set_aspect("equal")
    ax.axis("off")
    for x, y, label, colour in BOXES.values():
        ax.add_patch(FancyBboxPatch((x - W / 2, y - H / 2), W, H, boxstyle="round,pad=0.04",
                                    fc=colour, ec="0.3"))
        ax.text(x, y, label, ha="center", va="center", fontsize=9)
    for start, end, curve, label, where, dashed in ARROWS:
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12,
                                     connectionstyle=f"arc3,rad={curve}", color="0.25", lw=1.2,
                                     linestyle="--" if dashed else "-"))
        if label:
            ax.text(*where, label, ha="center", va="center", fontsize=8.5)
    out = Path(__file__).with_name("ddpg_dataflow.svg")
    fig.savefig(out, metadata={"Date": None})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
