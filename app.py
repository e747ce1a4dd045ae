"""Face GAN Lab: the entry point. `streamlit run app.py` (or `make run`)."""

import streamlit as st

st.set_page_config(page_title="Face GAN Lab", page_icon=":material/face:", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/generate.py", title="Generate", icon=":material/auto_awesome:", url_path="generate"),
    st.Page("pages/latent_lab.py", title="Latent Lab", icon=":material/blur_on:", url_path="latent-lab"),
]
st.navigation(pages).run()
