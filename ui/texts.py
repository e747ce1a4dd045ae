"""The long teaching texts of the pages and views, in one place: captions, explanations and long help texts.

Wording edits happen here; the pages and ui/views/ refer to these by name. Short labels stay beside their widgets.
"""

# ----------------------------------------------------------------------------- Home

HOME_INTRO = (  # pages/home.py
    "Faces that no camera ever took. This lab shows **generative adversarial networks** (GANs) "
    "trained on celebrity photos: a *generator* turns a vector of random numbers into a face, "
    "while a *discriminator* learns to tell its faces from real photos; each gets better by "
    "beating the other. Every model here was trained by this project's own scripts in `train/`, "
    "on a laptop-class CPU."
)

HOME_DETECTORS = (  # pages/home.py
    "Each detector below tells a GAN-made face from a real photo its own way; each was trained by "
    "`python -m train.detector` on real photos from four sources and faces from seven generators. The Detect "
    "page asks them all."
)

HOME_TRAINING_DATA = (  # pages/home.py
    "Training data: a 5,400-photo subset of CelebA (Liu et al., ICCV 2015) for the generators; for the detectors "
    "also FFHQ (CC BY-NC-SA 4.0), LFW, UTKFace, StyleGAN2 and Stable Diffusion 2.1 faces. All are for "
    "non-commercial research only and none is part of this repository. CelebA over-represents young, "
    "light-skinned celebrities, and the generators inherit that bias."
)

# ----------------------------------------------------------------------------- Generate

GENERATE_TRUNCATION_HELP = (  # pages/generate.py
    "Smaller t: fewer extreme numbers in z, so less variety and fewer odd faces. These small "
    "generators have no mapping network: t narrows the range of faces more than it sharpens them."
)

# ----------------------------------------------------------------------------- Detect

DETECT_LIMITS = (  # ui/views/detect.py
    " Generators and photo sources they never saw can fool them, and so can heavy edits or filters; they "
    "judge only the face crop, not the rest of the picture. Treat a verdict as evidence, not proof."
)

DETECT_GRADCAM = (  # ui/views/detect.py
    "Grad-CAM of the CNN: red and yellow mark where its features raised its GAN-made score most, blue "
    "where they did little or nothing. The map is scaled to its own strongest spot, so it shows where the "
    "CNN looked, not how sure it is: a face it calls real has a red spot too."
)

DETECT_SPECTRUM = (  # ui/views/detect.py; {red}: ui.charts.detect.spectrum_summary, read from the spectra
    "How much of the crop's detail sits at each scale (left: coarse, right: the finest), compared with "
    "the real training faces (green line at 0). The mean of our GANs' training faces (red line) runs "
    "{red}. A crop whose curve follows the red line looks generated to a spectrum; one near the green "
    "line looks like the real photos. JPEG and blur remove fine detail (the curve falls at the right) "
    "whatever made the face."
)

# ----------------------------------------------------------------------------- Detect: the detector families

FAMILIES_INTRO = (  # ui/views/families.py
    "The ResNet the app uses (`cnn`) beside a DenseNet and an Xception-style net, each trained from "
    "scratch with the same recipe, data, crops, augmentation and input (the NPR residual of the 128 px "
    "crop); the app's LSTM alone; and each GAN's own discriminator (`D-<gan>`), the network that "
    "trained beside its generator to tell its samples from CelebA photos. Each row is judged alone on "
    "every source's validation crops by one `train.evaluate` command. Of these, only `cnn` and `lstm` "
    "are among the Detect page's detectors; the others are for this comparison."
)

DISCRIMINATORS_NOTE = (  # ui/views/families.py
    "A discriminator sees each face framed as its generator's training photos were (the DCGANs: "
    "CelebA's centre square, wider than the app's crop, hair included; the LSGANs: the app's crop at "
    "80 px). Its score: the DCGAN's P(real) turned round, the LSGAN's 1 - D(x) (it was pulled to 1 on "
    "photos, 0 on samples). The bundled generators' first runs did not keep their discriminators, so "
    "each GAN's recipe was run again (bfloat16) to keep it: the `own generator` figures are on the "
    "samples of that second run's generator, the other GAN rows on the bundled generators' samples, "
    "the same faces every detector here is judged on."
)

FAMILIES_PER_SOURCE = (  # ui/views/families.py
    "Per source, each detector's own verdicts with the app's uncertain band (35%-65%): for a "
    "GAN-made source the share caught (called GAN-made), for a real source the share of false "
    "alarms (wrongly called GAN-made). *its own generator*: each discriminator on the 200 validation "
    "samples of the generator it trained beside (a different generator for each column, so only the "
    "discriminators have a figure there; Faces is the first one's count)."
)

ART_TABLE = (  # ui/views/families.py
    "Both rows by one command, `{command}`: it trains the LSTM on real Kandinsky crops against "
    "dcgan-64-abstract's samples (the whole 64 px picture, no face cropper), then judges it and that GAN's own "
    "final discriminator (weights/dcgan-64-abstract/discriminator/, GAN-made where D(x) < 0.5) on the same "
    "images, used for no choice: crops of 11 held-out paintings and as many fresh samples. Accuracy at 0.5. "
    "The art LSTM is never among the face detectors above; the Detect page asks it only about a picture with "
    "no face."
)

FAMILIES_TABLE = (  # ui/views/families.py
    "Pooled over every validation source (a discriminator's own generator's samples are not in the "
    "pool); accuracy at 0.5. Training: epochs and wall time from each model's training.json (a "
    "discriminator's: its whole GAN's run on two threads; the others on one thread, and other jobs shared "
    "the machine at times: compare roughly). ms per face: the network's forward pass on one crop at a "
    "time (128 px; a discriminator's at its own 64 or 80 px), median"
)

# ----------------------------------------------------------------------------- Latent Lab

LATENT_INTERPOLATION = (  # ui/views/latent.py
    "**What this shows.** Each picture is the generator's output for one point on a path between the two "
    "chosen vectors. If the faces change gradually (hair, pose, light sliding over) rather than jumping or "
    "breaking into noise halfway, the generator has learned a *continuous* space: nearby vectors give similar "
    "faces, and every point between two faces is a face too, not a memorised photo."
)

LATENT_INTERPOLATION_ART = (  # ui/views/latent.py, for the abstract-art model
    "**What this shows.** Each picture is the generator's output for one point on a path between the two "
    "chosen vectors. If colours, strokes and shapes slide from one picture into the other rather than jumping "
    "or breaking into noise halfway, the generator has learned a *continuous* space: nearby vectors give similar "
    "pictures, and every point between two of them is a picture too, not a memorised crop of a painting."
)

LATENT_ARITHMETIC_HOWTO_ART = (  # ui/views/latent.py, for the abstract-art model
    "**How to use it.** Find three pictures in the grid that share something (say, red shapes on a dark ground) "
    "and put their numbers in A; three that lack it but are otherwise alike (plain dark grounds) in B; three "
    "that lack it and differ in another way (plain pale grounds) in C. A − B keeps what A has and B has not "
    "(the red shapes); adding C should put it on a pale ground. Try **New grid** until the grid has pictures "
    "you can group."
)

LATENT_ARITHMETIC_HOWTO = (  # ui/views/latent.py
    "**How to use it.** Find three faces in the grid that share something (say, smiling women) and put their "
    "numbers in A; three that lack it but are otherwise alike (neutral women) in B; three that lack it and "
    "differ in another way (neutral men) in C. The classic example from the DCGAN paper (Radford et al., 2015): "
    "*smiling woman − neutral woman + neutral man ≈ smiling man*. A − B keeps what A has and B has not (the "
    "smile); adding C puts it on a new face. Try **New grid** until the grid has faces you can group."
)

LATENT_ARITHMETIC_RESULT = (  # ui/views/latent.py; {thing}: face or painting
    "**Reading the result.** A mean of three latents is shorter than a typical one (about 0.58x), so the "
    "mean {thing}s look smoother and more generic than any single {thing}; A − B + C is back at a typical "
    "length. If the neighbours keep the attribute you aimed for, it is a direction in the latent space, "
    "not an accident of one vector."
)

LATENT_ATTRIBUTES_CAVEAT = (  # ui/views/latent.py
    "It is nearly always close to 0% or 100% sure: along a strip it flips from female to male rather than "
    "sliding, and on a generated face that is only half changed it can stay on \"female\" when a person "
    "already sees a man (dcgan-64, grid seed 2, face 0 at +3). Read its answers as a second opinion, not a "
    "measure of how masculine or old a face is."
)

# ----------------------------------------------------------------------------- Training History

HISTORY_DETECTOR_CURVES = (  # ui/views/history.py
    "Train figures are averaged over each epoch's batches, with augmentation (flips, rescaling, blur, "
    "JPEG) on; validation figures are measured after the epoch on the validation crops, unaugmented. "
    "Training stops early when the validation loss stops improving, keeping the best weights."
)

HISTORY_SUPCON_PHASES = (  # ui/views/history.py
    "SupCon trains in two phases. **Encoder phase:** the ResNet encoder learns with the supervised "
    "contrastive loss, which pulls two augmented views of crops of the same class (real, or GAN-made) "
    "together and pushes the classes apart; there is no classifier yet, so no accuracy, and the loss "
    "stays in the units of that objective (it never nears 0). **Head phase** (after the dashed line): "
    "the encoder is frozen and a linear head learns real vs GAN-made on its features, so classification "
    "loss and accuracy start there: by cross-entropy epochs, or, for the bundled `supcon`, in one "
    "closed-form fit (a source-balanced logistic regression on every training crop's features: one point)."
)

HISTORY_TEST_TERMS = (  # ui/views/history.py
    "Test crops are other photos and other generated faces than the training ones. AP: average precision; "
    "EER: the error rate where false positives and misses are equal; ECE: expected calibration error of "
    "the calibrated probability (0 = it is right as often as it claims); JPEG-75: the same crops "
    "re-saved as JPEG at quality 75. A held-out generator is one the detector never saw in training."
)

HISTORY_DETECTOR_FACTS = (  # ui/views/history.py
    "Validation accuracy (balanced): of the weights kept, from the epoch with the lowest validation loss, at the "
    "0.5 threshold with real and GAN-made weighing alike (the table below counts every crop once). "
    "Temperature: the T in P(GAN-made) = sigmoid(logit / T), fitted on validation data so the "
    "probability is calibrated (ECE before → after). Held-out generators: never seen in "
    "training, tested below."
)

HISTORY_FIT_FACTS = (  # ui/views/history.py, a head fitted in closed form
    "Validation accuracy (balanced): of the fitted head at the 0.5 threshold, real and GAN-made weighing alike "
    "(the table below counts every crop once). Fit: a logistic regression on the frozen "
    "backbone's features, C its inverse regularisation strength. "
    "Temperature: the T in P(GAN-made) = sigmoid(logit / T), fitted on validation data so the "
    "probability is calibrated (ECE before → after). Held-out generators: never seen in "
    "training, tested below."
)

HISTORY_D_OUTPUTS = (  # ui/views/history.py; {real}: what D is shown, {fake}: what G makes
    "D(x) is the discriminator's probability that a real {real} is real; D(G(z)) the same for generated "
    "{fake}, before and after D's update in the same iteration. D(x) near 1 and D(G(z)) near 0 means D "
    "is winning; both drifting toward 0.5 is the equilibrium the game aims at. Spikes in Loss_G early "
    "on are normal: D learns faster at first."
)

HISTORY_GAN_FACTS = (  # ui/views/history.py, beside a face GAN's card; {threshold}: MTCNN's face probability
    "Faces found: share of samples where the MTCNN detector finds a face (p >= {threshold:g}), "
    "beside the same for real face crops. "
    "Diversity: mean pairwise pixel distance relative to real photos (1 = as varied). "
    "Near-copies: samples closer to a training photo than 99% of training photos are to each other."
)

HISTORY_ART_FACTS = (  # ui/views/history.py, beside the abstract-art GAN's card
    "FD and KID: how far samples are from crops of paintings held out of training, on a fixed ImageNet "
    "network's features (lower is closer), beside real training crops against the same (the floor). "
    "Diversity: mean pairwise pixel distance relative to the held-out crops (1 = as varied). "
    "Near-copies: samples closer to a training crop than 99% of training crops are to another painting's."
)

HISTORY_ROC = (  # ui/views/history.py
    "Each point is one threshold on P(GAN-made): the share of GAN-made faces caught against "
    "the share of real photos wrongly flagged. A perfect detector reaches the top-left corner; "
    "the dashed diagonal is guessing. A high AUC beside a low accuracy (as on a held-out "
    "generator) means the detector still ranks fakes above real photos, but the 0.5 threshold "
    "it learnt no longer separates them."
)

HISTORY_LSGAN_LOSSES = (  # ui/views/history.py
    "Least squares (LSGAN, targets 0 for fake and 1 for real): d1 = ½(D(x)−1)² on real "
    "photos, d2 = ½D(G(z))² on generated faces, g = ½(D(G(z))−1)² for the generator. At the "
    "equilibrium D scores everything 0.5 and all three sit at 0.125; d1 and d2 near 0 with g "
    "near 0.5 mean D is winning."
)

HISTORY_DETECTOR_AXIS = (  # ui/views/history_controls.py
    "Detectors are lined up by epoch over the whole run (one logged row an epoch). "
    "SupCon's contrastive loss is a different quantity from a classification loss, so it is "
    "never overlaid on one."
)

# ----------------------------------------------------------------------------- Classroom

CLASSROOM_LIVE_GAN = (  # pages/classroom.py
    "A generator (an MLP turning 8 random numbers into a 2-D point) against a discriminator (an MLP "
    "scoring how real a point looks), trained on your own session's copy, on the server's CPU."
)

LIVE_GAN_CHART = (  # ui/views/live_gan.py
    "Black: real points. Gold: what the generator makes of the same 1,000 noise vectors after each "
    "step, so any movement is learning. Background: the discriminator's probability that a point is real, "
    "blue where it says *real*, red where it says *generated*. **Equilibrium** looks like gold on top of "
    "black and a pale background everywhere (D near 0.5): D can no longer tell them apart. **Mode "
    "collapse** on the ring looks like every gold point piled on one or two of the eight clusters, often "
    "hopping to another cluster as D catches up: try lr G 1e-4 against lr D 1e-2 for a few hundred steps."
)

LIVE_GAN_LOSS_HELP = (  # ui/views/live_gan.py
    "Log loss: D's output is a probability (sigmoid), G maximises log D(G(z)). "
    "Least squares: D's raw output is pushed to 1 on real and 0 on generated points, "
    "G pushes it to 1 on its own. Changing it starts again from step 0."
)

QUIZ_CELEBA_CREDIT = (  # ui/views/quiz.py
    "Real photos: CelebA validation split (Liu et al., \"Deep Learning Face Attributes in the Wild\", "
    "ICCV 2015), available for non-commercial research purposes only and not part of this repository. "
    "Both faces are cropped and scaled the same way."
)

# Generate, Latent Lab: what a model that is not a face model leaves out (registry.ModelSpec.subject)
NOT_FACES_NOTE = (  # pages/generate.py, pages/latent_lab.py
    "**{name}** paints abstract pictures (Kandinsky's paintings), not faces, so the face-only tools are hidden "
    "for it: predicted age and gender{extra} read faces, and it has none."
)
