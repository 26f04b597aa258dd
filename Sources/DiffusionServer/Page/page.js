// The page of `diffuse serve` (Docs/SERVER.md, "The web page"). It uses only the public routes
// a client uses: GET /models, POST /assets, POST /detect, POST /generate/controlnet-ip-adapter,
// GET /jobs/{id}, POST /jobs/{id}/cancel, GET /assets, GET /assets/{id}, GET /assets/{id}/image.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  credentials: sessionStorage.getItem("diffuse-credentials"), // "key:secret", or null
  catalog: null,        // GET /models
  control: null,        // {dataURL} or {assetId}, plus {url} to show it
  references: [],       // [{dataURL} or {assetId}, url, scale]
  job: null,            // the running job: {id, started, steps, timer}
  assetsToken: null,    // the next page of GET /assets
};

// ---- The API -------------------------------------------------------------------------------

class APIError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field;
  }
}

// One request with the user's key. `omit` keeps the browser from its own password prompt on a 401.
async function api(method, path, body) {
  const headers = {};
  if (state.credentials) headers.Authorization = "Basic " + btoa(state.credentials);
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "omit", body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    askForKey(state.credentials ? "The server refused this key." : "");
    throw new APIError(401, "an API key is needed");
  }
  if (!response.ok) {
    const error = (await response.json().catch(() => ({}))).error || {};
    throw new APIError(response.status, error.message || response.statusText, error.field);
  }
  return response;
}

const getJSON = async (path) => (await api("GET", path)).json();
const postJSON = async (path, body) => (await api("POST", path, body)).json();

// An image the API serves, as a URL an <img> can show (images need the key too).
async function imageURL(assetId) {
  const blob = await (await api("GET", `/assets/${encodeURIComponent(assetId)}/image`)).blob();
  return URL.createObjectURL(blob);
}

// ---- Credentials ---------------------------------------------------------------------------

function askForKey(message) {
  $("key-error").textContent = message || "";
  if (!$("key-dialog").open) $("key-dialog").showModal();
}

$("key-form").addEventListener("submit", () => {
  state.credentials = `${$("api-key").value}:${$("api-secret").value}`;
  sessionStorage.setItem("diffuse-credentials", state.credentials);
  $("change-key").hidden = false;
  start();
});
$("change-key").addEventListener("click", () => askForKey(""));

// ---- The model catalog: what the form offers -------------------------------------------------

async function start() {
  try {
    state.catalog = await getJSON("/models");
  } catch (error) {
    if (error.status !== 401) showFormError(error);
    return;
  }
  if (state.credentials) $("change-key").hidden = false;
  const models = state.catalog.models;
  $("modelId").replaceChildren(...models.map((m) => option(m.id, `${m.id} (${m.family})`)));
  if (models.length === 0) showFormError(new APIError(404, "no model in the server's models directory"));
  $("scheduler").replaceChildren(option("", "the model's default"), ...state.catalog.schedulers.map((s) => option(s, s)));
  modelChanged();
  loadAssets(true);
}

function option(value, text, disabled = false) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  element.disabled = disabled;
  return element;
}

function family() {
  const model = state.catalog.models.find((m) => m.id === $("modelId").value);
  return model && state.catalog.families.find((f) => f.family === model.family);
}

// The modality names and presets of the model's family; those without ControlNets greyed out.
function modelChanged() {
  const current = family();
  if (!current) return;
  $("modality-names").replaceChildren(...current.modalities.map((m, i) => {
    const row = document.createElement("label");
    row.className = "modality" + (m.installed ? "" : " missing");
    row.title = m.installed ? "" : "no ControlNet installed for this modality";
    row.innerHTML = `<input type="checkbox" value="${m.name}"> <span>${m.name}</span>
      <input type="number" class="weight" min="0.05" max="1" step="0.05" value="1" aria-label="${m.name} weight">`;
    row.querySelector("input").checked = m.installed && i === current.modalities.findIndex((x) => x.installed);
    for (const input of row.querySelectorAll("input")) input.disabled = !m.installed;
    row.dataset.detection = m.detection;
    return row;
  }));
  $("preset").replaceChildren(...current.presets.map((p) =>
    option(p.name, `${p.name} (${p.members.join(", ")})`, !p.installed)));
  $("ipAdapterType").replaceChildren(...current.ipAdapterTypes.map((t) => option(t, t)));
  $("width").min = $("height").min = current.minSize;
  $("width").max = $("height").max = current.maxSize;
  $("guidance").placeholder = current.defaultGuidance;
}

$("modelId").addEventListener("change", modelChanged);
for (const radio of document.querySelectorAll("input[name=modality-kind]")) {
  radio.addEventListener("change", () => {
    const preset = presetChosen();
    $("modality-names").hidden = preset;
    $("modality-preset").hidden = !preset;
    showDetectedMap();
  });
}
$("modality-names").addEventListener("change", showDetectedMap);
$("preset").addEventListener("change", showDetectedMap);

function presetChosen() {
  return document.querySelector("input[name=modality-kind]:checked").value === "preset";
}

// The `modality` string: up to three `name:weight`, or one `preset:weight`.
function modalityString() {
  if (presetChosen()) {
    return `${$("preset").value}:${$("preset-weight").value}`;
  }
  return [...$("modality-names").querySelectorAll("label")]
    .filter((row) => row.querySelector("input[type=checkbox]").checked)
    .map((row) => `${row.querySelector("input[type=checkbox]").value}:${row.querySelector(".weight").value}`)
    .join(",");
}

// ---- Images: uploads, assets, the detected map ---------------------------------------------

function readDataURL(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function setControl(image) {
  state.control = image;
  if (!image?.dataURL) $("control-file").value = "";
  const preview = $("control-preview");
  preview.hidden = !image;
  if (image) preview.querySelector("img").src = image.url;
  showDetectedMap();
}

$("control-file").addEventListener("change", async (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const dataURL = await readDataURL(file);
  setControl({ dataURL, url: dataURL });
});
$("detect").addEventListener("change", showDetectedMap);

// With "detect" on, the map the ControlNet will see (POST /detect), for the first modality.
async function showDetectedMap() {
  const figure = $("detected-preview");
  const first = presetChosen() ? family()?.presets.find((p) => p.name === $("preset").value)?.members[0] : modalityString();
  const modality = (first || "").split(",")[0].split(":")[0];
  clearError("disableModalityDetection");
  if (!$("detect").checked || !state.control || !modality) {
    figure.hidden = true;
    return;
  }
  try {
    const body = { modality, width: Number($("width").value), height: Number($("height").value) };
    if (state.control.assetId) body.imageId = state.control.assetId; else body.image = state.control.dataURL;
    const blob = await (await api("POST", "/detect", body)).blob();
    figure.querySelector("img").src = URL.createObjectURL(blob);
    figure.querySelector("figcaption").textContent = `detected ${body.modality} map`;
    figure.hidden = false;
  } catch (error) {
    figure.hidden = true;
    showFieldError(error.field === "modality" || !error.field ? "disableModalityDetection" : error.field, error.message);
  }
}

function addReference(image) {
  state.references.push({ ...image, scale: 0.9 });
  renderReferences();
}

function renderReferences() {
  $("references").replaceChildren(...state.references.map((reference, i) => {
    const item = document.createElement("li");
    item.innerHTML = `<img alt="reference ${i + 1}"> <label>scale
      <input type="number" class="scale" min="0" max="1" step="0.05"></label> <button type="button">Remove</button>`;
    item.querySelector("img").src = reference.url;
    const scale = item.querySelector(".scale");
    scale.value = reference.scale;
    scale.addEventListener("change", () => { reference.scale = Number(scale.value); });
    item.querySelector("button").addEventListener("click", () => {
      state.references.splice(i, 1);
      renderReferences();
    });
    return item;
  }));
}

$("reference-files").addEventListener("change", async (event) => {
  for (const file of event.target.files) {
    const dataURL = await readDataURL(file);
    addReference({ dataURL, url: dataURL });
  }
  event.target.value = "";
});

$("control-pick").addEventListener("click", () => pickAsset("control"));
$("reference-pick").addEventListener("click", () => pickAsset("reference"));

// ---- Submitting and following the job -------------------------------------------------------

function requestBody() {
  const body = {
    modelId: $("modelId").value,
    prompt: $("prompt").value,
    modality: modalityString(),
    disableModalityDetection: !$("detect").checked,
    intermediateImages: $("intermediateImages").checked,
  };
  // An empty box leaves the field out (its default); anything typed is sent for the server to judge.
  for (const field of ["numInferenceSteps", "guidance", "width", "height", "numSamples", "controlStart", "controlEnd"]) {
    const value = $(field).value.trim();
    if (value !== "") body[field] = Number.isNaN(Number(value)) ? value : Number(value);
  }
  if ($("negativePrompt").value) body.negativePrompt = $("negativePrompt").value;
  if ($("scheduler").value) body.scheduler = $("scheduler").value;
  if ($("seed").value.trim()) body.seed = $("seed").value.trim();
  if ($("ipAdapterType").value) body.ipAdapterType = $("ipAdapterType").value;
  if (state.control?.assetId) body.imageId = state.control.assetId;
  else if (state.control) body.controlImage = state.control.dataURL;
  if (state.references.length > 0) {
    if (state.references.every((r) => r.assetId)) body.ipAdapterImageIds = state.references.map((r) => r.assetId);
    else body.ipAdapterImages = state.references.map((r) => r.dataURL);
    body.ipAdapterScales = state.references.map((r) => r.scale);
  }
  return body;
}

$("generate-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors();
  $("submit").disabled = true;
  try {
    const body = await requestWithUploads();
    const submitted = await postJSON("/generate/controlnet-ip-adapter", body);
    follow(submitted, body);
  } catch (error) {
    $("submit").disabled = false;
    if (error.status !== 401) showFormError(error);
  }
});

// References mixing uploads and assets are all sent as asset ids: then the uploads go up first.
async function requestWithUploads() {
  if (state.references.every((r) => r.dataURL)) return requestBody();
  for (const reference of state.references) {
    if (reference.assetId) continue;
    const { asset } = await postJSON("/assets", { image: reference.dataURL, name: "reference", hide: false });
    reference.assetId = asset.id;
  }
  return requestBody();
}

function follow(submitted, body) {
  const job = submitted.job;
  state.job = { id: job.jobId, steps: submitted.inference.numInferenceSteps, started: null, body, inference: submitted.inference };
  $("progress").hidden = false;
  $("cancel").hidden = false;
  $("previews").replaceChildren();
  showProgress(job);
  poll();
}

async function poll() {
  const current = state.job;
  if (!current) return;
  let job;
  try {
    job = (await getJSON(`/jobs/${current.id}`)).job;
  } catch (error) {
    if (error.status === 401) return;
    showFormError(error);
    return finishJob();
  }
  showProgress(job);
  if (job.status === "success") {
    await addToGallery(job, current);
    return finishJob();
  }
  if (job.status === "failure" || job.status === "canceled") {
    if (job.error) showFormError(new APIError(job.error.status, job.error.message, job.error.field));
    else $("progress-text").textContent = "canceled";
    return finishJob();
  }
  await showPreviews(job);
  current.timer = setTimeout(poll, 250);
}

// "step 3 of 20, 12 s left": the time left from the pace of the steps so far.
function showProgress(job) {
  const current = state.job;
  $("progress-bar").value = job.progress;
  if (job.status === "queued") {
    $("progress-text").textContent = "queued";
    return;
  }
  const running = (job.statusHistory || []).filter((s) => s.status === "in-progress").pop();
  if (running && !current.started) current.started = Date.parse(running.date);
  const step = Math.round(job.progress * current.steps);
  let text = `${job.status === "success" ? "done" : job.status}: step ${step} of ${current.steps}`;
  if (job.status === "in-progress" && job.progress > 0 && current.started) {
    const elapsed = (Date.now() - current.started) / 1000;
    text += `, ${Math.max(0, Math.round(elapsed * (1 - job.progress) / job.progress))} s left`;
  }
  $("progress-text").textContent = text;
}

async function showPreviews(job) {
  const previews = job.metadata?.output?.intermediateImages || [];
  for (const preview of previews) {
    let figure = $("previews").querySelector(`[data-output-index="${preview.outputIndex}"]`);
    if (!figure) {
      figure = document.createElement("figure");
      figure.dataset.outputIndex = preview.outputIndex;
      figure.innerHTML = "<img alt=\"preview\"><figcaption></figcaption>";
      $("previews").append(figure);
    }
    if (figure.dataset.step === String(preview.step)) continue;
    try {
      figure.querySelector("img").src = await imageURL(preview.assetId);
      figure.dataset.step = preview.step;
      figure.querySelector("figcaption").textContent = `sample ${preview.outputIndex + 1}, step ${preview.step}`;
    } catch {
      // The job ended meanwhile and removed its previews; the next poll says how.
    }
  }
}

function finishJob() {
  state.job = null;
  $("submit").disabled = false;
  $("cancel").hidden = true;
  $("previews").replaceChildren();
}

$("cancel").addEventListener("click", async () => {
  if (!state.job) return;
  try {
    await postJSON(`/jobs/${state.job.id}/cancel`);
  } catch (error) {
    showFormError(error);
  }
});

// ---- The gallery -----------------------------------------------------------------------------

async function addToGallery(job, submitted) {
  $("gallery-empty").hidden = true;
  for (const assetId of job.metadata.assetIds) {
    const { asset } = await getJSON(`/assets/${assetId}`);
    const card = document.createElement("figure");
    card.className = "card";
    card.dataset.assetId = assetId;
    card.dataset.jobId = job.jobId;
    card.innerHTML = `<img alt="generated image"><figcaption>seed <span class="seed"></span>
      <button type="button" class="reuse">Reuse</button> <a class="download">Download</a></figcaption>`;
    const url = await imageURL(assetId);
    card.querySelector("img").src = url;
    card.querySelector("img").dataset.assetId = assetId;
    card.querySelector(".seed").textContent = asset.metadata.seed;
    const download = card.querySelector(".download");
    download.href = url;
    download.download = `${assetId}.png`;
    card.querySelector(".reuse").addEventListener("click", () => reuse(submitted, asset.metadata.seed));
    $("gallery").prepend(card);
  }
}

// Fills the form with the request that made an image, with that image's own seed. The images
// are fetched first, so the form changes at once, whole.
async function reuse(submitted, seed) {
  const { body, inference } = submitted;
  const references = await Promise.all((inference.ipAdapterImageIds || []).map(async (id, i) =>
    ({ assetId: id, url: await imageURL(id), scale: inference.ipAdapterScales[i] ?? 0.9 })));
  const control = inference.imageId ? { assetId: inference.imageId, url: await imageURL(inference.imageId) } : null;
  for (const field of ["modelId", "prompt", "negativePrompt", "numInferenceSteps", "width", "height", "controlStart", "controlEnd"]) {
    $(field).value = body[field] ?? "";
  }
  modelChanged();
  $("guidance").value = body.guidance ?? "";
  $("scheduler").value = body.scheduler ?? "";
  $("ipAdapterType").value = inference.ipAdapterType;
  $("numSamples").value = 1;
  $("detect").checked = !body.disableModalityDetection;
  $("intermediateImages").checked = body.intermediateImages;
  setModality(body.modality);
  state.references = references;
  renderReferences();
  setControl(control);
  $("seed").value = seed;
  window.scrollTo(0, 0);
}

function setModality(text) {
  const items = text.split(",").map((item) => item.trim().split(":"));
  const presetNames = family().presets.map((p) => p.name);
  const isPreset = items.length === 1 && presetNames.includes(items[0][0]);
  document.querySelector(`input[name=modality-kind][value=${isPreset ? "preset" : "names"}]`).checked = true;
  $("modality-names").hidden = isPreset;
  $("modality-preset").hidden = !isPreset;
  if (isPreset) {
    $("preset").value = items[0][0];
    $("preset-weight").value = items[0][1] ?? 1;
    return;
  }
  for (const row of $("modality-names").querySelectorAll("label")) {
    const item = items.find(([name]) => name === row.querySelector("input").value);
    row.querySelector("input").checked = Boolean(item);
    row.querySelector(".weight").value = item?.[1] ?? 1;
  }
}

// ---- The assets view -------------------------------------------------------------------------

function showView(name) {
  $("generate-view").hidden = name !== "generate";
  $("assets-view").hidden = name !== "assets";
  $("show-generate").classList.toggle("selected", name === "generate");
  $("show-assets").classList.toggle("selected", name === "assets");
}

$("show-generate").addEventListener("click", () => showView("generate"));
$("show-assets").addEventListener("click", () => {
  showView("assets");
  $("assets-hint").textContent = "The stored images, newest first (hidden ones are left out).";
  loadAssets(true);
});

function pickAsset(role) {
  showView("assets");
  $("assets-hint").textContent = `Pick the ${role === "control" ? "control image" : "reference image"}.`;
  loadAssets(true);
}

async function loadAssets(fromStart) {
  if (fromStart) {
    state.assetsToken = null;
    $("assets").replaceChildren();
  }
  const query = new URLSearchParams({ pageSize: "24", sortDirection: "desc" });
  if (state.assetsToken) query.set("paginationToken", state.assetsToken);
  let page;
  try {
    page = await getJSON(`/assets?${query}`);
  } catch (error) {
    if (error.status !== 401) $("assets-hint").textContent = error.message;
    return;
  }
  state.assetsToken = page.nextPaginationToken || null;
  $("assets-more").hidden = !state.assetsToken;
  for (const asset of page.assets) {
    const card = document.createElement("figure");
    card.className = "card";
    card.dataset.assetId = asset.id;
    const label = asset.metadata.name || asset.metadata.prompt || asset.source;
    card.innerHTML = `<img alt=""><figcaption><span class="label"></span><br>
      <button type="button" class="use-control">Control</button> <button type="button" class="use-reference">Reference</button>
      <a class="download">Download</a></figcaption>`;
    card.querySelector(".label").textContent = `${label}${asset.metadata.seed ? `, seed ${asset.metadata.seed}` : ""}`;
    $("assets").append(card);
    const url = await imageURL(asset.id).catch(() => "");
    card.querySelector("img").src = url;
    card.querySelector(".download").href = url;
    card.querySelector(".download").download = `${asset.id}.png`;
    card.querySelector(".use-control").addEventListener("click", () => {
      setControl({ assetId: asset.id, url });
      showView("generate");
    });
    card.querySelector(".use-reference").addEventListener("click", () => {
      addReference({ assetId: asset.id, url });
      showView("generate");
    });
  }
}
$("assets-more").addEventListener("click", () => loadAssets(false));

// ---- Errors beside their fields --------------------------------------------------------------

function fieldElement(field) {
  const name = (field || "").split(/[.[]/)[0];
  return [...document.querySelectorAll("[data-error-for]")].find((e) => e.dataset.errorFor.split(" ").includes(name));
}

function showFieldError(field, message) {
  const element = fieldElement(field);
  if (!element) return false;
  element.classList.add("invalid");
  element.querySelector(".error").textContent = message;
  element.scrollIntoView({ block: "center" });
  return true;
}

function showFormError(error) {
  if (!showFieldError(error.field, error.message)) $("form-error").textContent = error.message;
}

function clearError(field) {
  const element = fieldElement(field);
  element?.classList.remove("invalid");
  if (element) element.querySelector(".error").textContent = "";
}

function clearErrors() {
  for (const element of document.querySelectorAll("[data-error-for]")) {
    element.classList.remove("invalid");
    element.querySelector(".error").textContent = "";
  }
  $("form-error").textContent = "";
}

start();
