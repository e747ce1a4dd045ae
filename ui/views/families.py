"""Training History's "Detectors side by side" section (the CNN families, the LSTM and the GANs' own
discriminators): tables, ROC curves and mistakes galleries.

The figures come from core.detection.families (the records `train.evaluate` wrote); this module only lays them out.
"""

from __future__ import annotations

import streamlit as st

from core.detection import families
from core.models import discriminators
from ui import texts
from ui.charts.roc import roc_chart as roc_figure
from ui.widgets import MISSING, PROGRESS_PX, column_px, table_height


def roc_chart(records: list[families.FamilyRecord]):
    """One ROC curve per evaluated detector (AUC in the legend); None when no record holds a curve."""
    return roc_figure({f"{r.family} ({r.name})": r.results for r in records if r.status == "evaluated"},
                      "ROC curves, one per detector (validation mix)")


def families_section(record_dir=None) -> None:
    """The comparison: what is trained, the figures per family and per source, ROC curves, galleries."""
    records = families.read_records(record_dir)
    if not records:
        return
    st.subheader("Detectors side by side")
    st.caption(texts.FAMILIES_INTRO)
    _not_ready(records)
    summary = families.summary_rows(records)
    if not summary:
        st.caption(families.published_sentence())
        _art_table()
        return
    _summary_table(records, summary)
    _per_source_table(records)
    fig = roc_chart(records)
    if fig is None:
        st.caption("No record holds a ROC curve: re-run the evaluate commands above to draw them.")
    else:
        st.plotly_chart(fig, width="stretch")
    _art_table()
    _galleries(records)


def _art_table() -> None:
    """The abstract-art rows: the art LSTM and dcgan-64-abstract's discriminator on paintings, in a table of
    their own (other images, other counts than the faces above)."""
    rows = families.art_rows()
    st.markdown("**Abstract art**")
    if not rows:
        st.caption(f"Not measured yet: `{families.ART_COMMAND}`, then "
                   f"`python -m train.bundle --run runs/art-lstm --name {families.ART_DETECTOR}`.")
        return
    judge = st.column_config.TextColumn(width=column_px("Judge", *(r["Judge"] for r in rows)), pinned=True)
    st.dataframe(rows, hide_index=True, width="content", column_config={
        "Judge": judge,
        "Accuracy": st.column_config.NumberColumn(format="%.4f"),
        families.ART_STUDY_COLUMN: st.column_config.TextColumn(
            help="The LSTM study's published accuracy, over faces and abstract art together, on its own data"),
    })
    st.markdown(families.art_sentence())
    st.caption(texts.ART_TABLE.format(command=families.ART_COMMAND))


def discriminator_note(gan: str) -> None:
    """On a GAN's page: how its own discriminator does as a detector, and a link to the comparison."""
    rows = families.summary_rows([families.read_record(discriminators.detector_name(gan))])
    if not rows:
        return
    row = rows[0]
    text = (f"**Its discriminator as a detector.** The final discriminator of a second run of this recipe, asked "
            f"about each face alone: accuracy {row['Accuracy']:.1%}, ROC AUC {row['ROC AUC']:.3f} on the validation "
            "mix of real photos and every generator's faces")
    if row["Own generator AUC"] is not None:
        text += (f"; on the samples of the generator it trained beside, ROC AUC {row['Own generator AUC']:.3f} "
                 f"({row['Own generator caught']:.0%} called GAN-made)")
    # a bordered box, not st.info: the page's info boxes are the notes on what a link asked for
    with st.container(border=True):
        st.markdown(text + ". It knows its own generator's flaws, not GAN-made faces in general.")
        st.page_link("pages/training_history.py", label="Beside the detectors: Detectors side by side",
                     icon=":material/table_chart:", query_params={"model": "cnn"})


def _not_ready(records: list[families.FamilyRecord]) -> None:
    for r in records:
        if r.status == "not trained":
            st.warning(f"**{r.family}** (`{r.name}`) is not trained yet: no weights in `{families.weights_label(r.name)}`. "
                    f"Train and bundle it with `{families.train_command(r.name)}`, then evaluate it with "
                    f"`{families.evaluate_command(r.name)}`.", icon=":material/hourglass_empty:")
        elif r.status == "not evaluated":
            st.warning(f"**{r.family}** (`{r.name}`) is trained but not evaluated yet: "
                    f"`{families.evaluate_command(r.name)}`.", icon=":material/hourglass_empty:")


def _shown(row: dict) -> dict:
    """A summary row as the tables show it: the model's name beside its family where they differ ("ResNet
    (cnn)"; a discriminator's family already names it), a discriminator's two own-generator figures in one
    text cell, a dash for the rows that have no generator of their own (rather than "None" or a blank)."""
    caught, auc = row["Own generator caught"], row["Own generator AUC"]
    own = f"{caught:.1%} / {auc:.3f}" if caught is not None and auc is not None else MISSING
    named = row["Kind"] == "GAN discriminator" or row["Model"] == row["Detector"]
    out = {"Detector": row["Detector"] if named else f"{row['Detector']} ({row['Model']})"}
    for k, v in row.items():
        if k == "Own generator caught":
            out[OWN_COLUMN] = own
        elif k not in ("Detector", "Model", "Own generator AUC"):
            out[k] = v
    return out


OWN_COLUMN = "Own G (caught / AUC)"
# the summary in two tables that each fit a 1,400 px window: how well each detector does, and what it costs
FIGURE_COLUMNS = ("Detector", "Kind", "Accuracy", "ROC AUC", "AP", "Weakest fake (AUC)", OWN_COLUMN)
COST_COLUMNS = ("Detector", "Parameters", "Training", "ms per face")


def _summary_table(records: list[families.FamilyRecord], summary: list[dict]) -> None:
    rows = [_shown(r) for r in summary]
    detector = st.column_config.TextColumn(width=column_px("Detector", *(r["Detector"] for r in rows)), pinned=True)
    st.dataframe([{k: r[k] for k in FIGURE_COLUMNS} for r in rows], hide_index=True, width="content",
                 column_config={
                     "Detector": detector,
                     "Accuracy": st.column_config.NumberColumn(format="%.4f"),
                     "ROC AUC": st.column_config.NumberColumn(format="%.4f"),
                     "AP": st.column_config.NumberColumn(format="%.4f"),
                     OWN_COLUMN: st.column_config.TextColumn(
                         help="Own generator: a discriminator on the samples of the generator it trained beside, "
                              "caught (called GAN-made) and ROC AUC against every real source"),
                 })
    st.dataframe([{k: r[k] for k in COST_COLUMNS} for r in rows], hide_index=True, width="content", column_config={
        "Detector": detector,
        "Parameters": st.column_config.NumberColumn(format="localized"),
        "ms per face": st.column_config.NumberColumn(format="%.1f"),
    })
    threads = {r.results.get("threads") for r in records if r.status == "evaluated"} - {None}
    st.caption(texts.FAMILIES_TABLE
               + (f", on {' / '.join(str(t) for t in sorted(threads))} CPU thread"
                  + ("" if threads == {1} else "s") if threads else "")
               + " (finding the face not included).")
    best = families.best_sentence(records)
    if best:
        st.markdown(best)
    st.markdown(families.published_sentence())
    d_text = families.discriminator_sentence(records)
    if d_text:
        st.markdown(d_text)
        st.caption(texts.DISCRIMINATORS_NOTE)


def _per_source_table(records: list[families.FamilyRecord]) -> None:
    """Per source, each detector's share; the GANs' discriminators in a second table (one table of every
    detector ran to 1,766 px and scrolled sideways even at 1,920)."""
    per_source = families.source_rows(records)
    if not per_source:
        return
    evaluated = [r for r in records if r.status == "evaluated"]
    groups = [[r.family for r in evaluated if r.kind != "GAN discriminator"],
              [r.family for r in evaluated if r.kind == "GAN discriminator"]]
    source = st.column_config.TextColumn(width=column_px("Source", *(r["Source"] for r in per_source)), pinned=True)
    for i, names in enumerate(g for g in groups if g):
        # the second table names the rows only: the first, above it, says what each is and counts its faces
        keys = ("Source", "Kind", "Figure", "Faces") if i == 0 else ("Source",)
        columns = {n: st.column_config.ProgressColumn(n, min_value=0.0, max_value=1.0, format="percent",
                                                      width=max(PROGRESS_PX, column_px(n))) for n in names}
        st.dataframe([{**{k: r[k] for k in keys}, **{n: r[n] for n in names}} for r in per_source], hide_index=True,
                     width="content", height=table_height(len(per_source)), column_config={"Source": source, **columns})
    st.caption(texts.FAMILIES_PER_SOURCE)


def _galleries(records: list[families.FamilyRecord]) -> None:
    galleries = [(r, families.gallery_path(r.name)) for r in records if r.status == "evaluated"]
    shown = [(r, p) for r, p in galleries if p.exists()]
    # behind a switch: each gallery is a large picture, and this page shows no faces of a detector otherwise
    if shown and st.toggle("Show the mistakes galleries", key="families_galleries",
                           help="Each detector's most confident mistakes on the validation crops "
                                "(train.evaluate --gallery)."):
        for r, path in shown:
            st.image(str(path), caption=f"{r.family} (`{r.name}`). Top: real photos it called GAN-made; bottom: "
                                        "GAN-made faces it called real; the most confident of each, with its "
                                        "probability.")
    if len(shown) < len(galleries):
        missing = ", ".join(f"`{r.name}`" for r, p in galleries if not p.exists())
        st.caption(f"No mistakes gallery here for {missing}: the evaluate command's `--gallery` writes it under "
                   "`runs/comparison/`. It shows real photos that are for research use only, so it is never "
                   "part of the repository or the Space.")
