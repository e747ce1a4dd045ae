"""Training History: how a model's losses, D's verdicts and fixed-noise faces changed while it trained.

For a detector: its loss and accuracy per epoch, learning rate, and the evaluation in training.json
(ROC curves, confusion matrices and the headline figures), then the detectors side by side
(ui/views/families.py); a GAN's page ends with its own discriminator's figures as a detector. The
sections are in ui/views/history.py, the sidebar's controls in ui/views/history_controls.py, the
charts in ui/charts/.
"""

import streamlit as st

from core.models.history import HISTORY_FILE
from ui.nav import ensure_app_navigation
from ui.views import history as view
from ui.views import history_controls as controls
from ui.views.families import discriminator_note, families_section

ensure_app_navigation()

st.title("Training History")
with_history = controls.models_with_history()
if not with_history:
    st.info(f"No model has a training history yet: `train/` writes {HISTORY_FILE} beside the weights.")
    st.stop()
notes_slot = st.empty()  # what the URL asked for that the page cannot show, filled in below
notes: list[str] = []

# read before the bound controls drop values they do not offer
requested = {key: st.query_params.get(key) for key in controls.URL_KEYS}
with st.sidebar:
    name, weight = controls.model_controls(with_history)
controls.model_notes(requested, name, with_history, weight, notes)
folder = view.record_folder(name)
columns = view.read_columns(name)
if columns is None:
    controls.show_notes(notes_slot, notes)
    st.stop()

with st.sidebar:
    others, compare, x_by = controls.compare_controls(name, columns, with_history)
controls.compare_notes(requested, name, with_history, others, compare, x_by, notes)
controls.show_notes(notes_slot, notes)

other = view.read_columns(compare) if compare else None
x_by = x_by if other is not None else "iteration"
training = view.training_record(folder)

if view.is_detector(name):
    view.detector_view(name, columns, compare, other, training)
    families_section()
else:
    view.gan_view(name, folder, columns, compare, other, x_by, weight, training)
    discriminator_note(name)
view.model_card(folder)
