// The site's behaviour, no framework: navigation, the upload form, live job progress, the
// before/after comparison, history selection and drop zones. Every page works without it (plain
// forms and links); this makes them quicker to use. Texts come from data-text-* attributes that
// the templates fill in the visitor's language.
(function () {
  "use strict";

  // "%(name)s" placeholders, as Django's translations use them.
  function format(template, values) {
    return (template || "").replace(/%\((\w+)\)s/g, (_, key) => (key in values ? String(values[key]) : ""));
  }

  function text(element, key, values) {
    return format(element.dataset["text" + key], values || {});
  }

  // A drop zone: highlighted while files are dragged over it; onDrop gets the dropped files.
  function dropTarget(zone, onDrop) {
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault(); zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => { event.preventDefault(); onDrop(event.dataTransfer.files); });
  }

  // --- navigation ------------------------------------------------------------------------------
  const toggle = document.querySelector('[data-role="nav-toggle"]');
  if (toggle) {
    const nav = document.getElementById(toggle.getAttribute("aria-controls"));
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      nav.classList.toggle("open", open);
    });
  }

  document.querySelectorAll('[data-role="language"]').forEach((form) => {
    const select = form.querySelector("select");
    const button = form.querySelector('[data-role="language-submit"]');
    const current = select.value;
    // The button shows (and takes focus) only once another language is chosen: never an
    // invisible focused control.
    if (button) button.hidden = true;
    let byPointer = false;
    select.addEventListener("pointerdown", () => { byPointer = true; });
    select.addEventListener("keydown", (event) => {
      byPointer = false;
      if (event.key === "Enter" && select.value !== current) { event.preventDefault(); form.submit(); }
    });
    // A choice made with the mouse or a finger switches at once; arrow keys only move the
    // selection (one key must not reload the page in another language): Enter or the button
    // confirms.
    select.addEventListener("change", () => {
      if (byPointer) { form.submit(); return; }
      if (button) button.hidden = select.value === current;
    });
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  // --- live job progress -------------------------------------------------------------------------
  function show(element, data) {
    const isDetail = element.dataset.reloadWhenDone === "1";
    const status = element.querySelector('[data-role="status"]');
    const progress = element.querySelector('[data-role="progress"]');
    const percent = element.querySelector('[data-role="percent"]');
    const eta = element.querySelector('[data-role="eta"]');
    const error = element.querySelector('[data-role="error"]');
    if (status) {
      status.textContent = data.status_text || data.status;
      status.className = "status " + data.status;
    }
    if (progress) progress.value = data.progress;
    if (percent) percent.textContent = data.progress + "%";
    if (eta) eta.textContent = data.eta_text || "";
    element.classList.remove("queued", "running", "succeeded", "failed");
    element.classList.add(data.status);
    if (data.status === "succeeded" || data.status === "failed") {
      element.dataset.finished = "1";
      if (error && data.error_text) { error.textContent = data.error_text; error.hidden = false; }
      element.querySelectorAll('[data-show-when="' + data.status + '"]').forEach((node) => { node.hidden = false; });
      // The history tile turns from the photo as sent into its result.
      const thumb = element.querySelector('[data-role="thumb"]');
      if (thumb && data.status === "succeeded") thumb.src = thumb.dataset.doneSrc;
      if (isDetail) window.location.reload();
    }
  }

  // One request for every unfinished job of a list, so the places in line come from one
  // reading of the queue (two jobs polled apart could both say "next in line" for a moment).
  function pollAll(list) {
    const tick = async () => {
      const waiting = Array.from(list.querySelectorAll('[data-job][data-status-url][data-finished="0"]'));
      if (!waiting.length) return;
      const url = list.dataset.statusesUrl + "?ids=" + waiting.map((e) => e.dataset.job).join(",");
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return setTimeout(tick, 3000);
        const data = await response.json();
        for (const job of data.jobs) {
          const element = waiting.find((e) => e.dataset.job === job.id);
          if (element) show(element, job);
        }
      } catch (error) {
        return setTimeout(tick, 3000);
      }
      setTimeout(tick, 1000);
    };
    setTimeout(tick, 500);
  }

  function poll(element) {
    const url = element.dataset.statusUrl;
    const tick = async () => {
      let data;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return setTimeout(tick, 3000);
        data = await response.json();
      } catch (error) {
        return setTimeout(tick, 3000);
      }
      show(element, data);
      if (element.dataset.finished !== "1") setTimeout(tick, 1000);
    };
    setTimeout(tick, 500);
  }

  document.querySelectorAll("[data-statuses-url]").forEach(pollAll);
  document.querySelectorAll('[data-status-url][data-finished="0"]').forEach((element) => {
    if (!element.closest("[data-statuses-url]")) poll(element);
  });

  // --- before / after ------------------------------------------------------------------------------
  document.querySelectorAll('[data-role="compare"]').forEach((compare) => {
    const slider = compare.querySelector(".slider");
    const wrap = compare.querySelector('[data-role="after-wrap"]');
    const divider = compare.querySelector('[data-role="divider"]');
    const stage = compare.querySelector('[data-role="stage"]');
    const viewport = compare.querySelector('[data-role="viewport"]');
    const after = compare.querySelector("img.after");
    const update = () => {
      wrap.style.clipPath = "inset(0 0 0 " + slider.value + "%)";
      if (divider) divider.style.left = slider.value + "%";
    };
    const splitAt = (clientX) => {
      const box = stage.getBoundingClientRect();
      const value = Math.round(((clientX - box.left) / box.width) * 100);
      slider.value = String(Math.min(100, Math.max(0, value)));
      update();
    };
    slider.addEventListener("input", update);
    update();

    // Zoom: null is "fit to the frame"; a number is the size against 100 %, which is one picture
    // pixel of the result per screen pixel (the before is drawn at the same size, so both line up
    // under the split). Buttons set 100/200/400 %; Ctrl + wheel (a trackpad's pinch arrives as
    // that), a plain wheel once zoomed, two fingers and the +/- keys zoom around a point.
    const MAX_ZOOM = 4;
    const zoomButtons = compare.querySelectorAll('[data-role="zoom"]');
    const readout = compare.querySelector('[data-role="zoom-readout"]');
    const canZoom = zoomButtons.length > 0;  // the landing page's examples only split
    let scale = null;
    const zoomed = () => scale !== null;
    const fullWidth = () => after.naturalWidth / (window.devicePixelRatio || 1);
    const fitScale = () => {
      const ratio = after.naturalWidth / after.naturalHeight;
      return Math.min(compare.clientWidth, window.innerHeight * 0.75 * ratio) / fullWidth();
    };
    const clamp01 = (value) => Math.min(1, Math.max(0, value));
    const setZoom = (next, clientX, clientY) => {
      const box = viewport.getBoundingClientRect();
      const x = clientX === undefined ? box.left + viewport.clientWidth / 2 : clientX;
      const y = clientY === undefined ? box.top + viewport.clientHeight / 2 : clientY;
      // The picture point under (x, y) stays under it.
      const was = stage.getBoundingClientRect();
      const fx = clamp01((x - was.left) / was.width);
      const fy = clamp01((y - was.top) / was.height);
      scale = next === null ? null : Math.min(MAX_ZOOM, next);
      compare.dataset.zoom = zoomed() ? "full" : "fit";
      stage.style.width = zoomed() ? Math.round(scale * fullWidth()) + "px" : "";
      zoomButtons.forEach((button) => {
        const level = button.dataset.level;
        const on = level === "fit" ? !zoomed() : zoomed() && Math.abs(scale - Number(level)) < 0.005;
        button.setAttribute("aria-pressed", String(on));
      });
      if (readout) readout.textContent = zoomed() ? Math.round(scale * 100) + "%" : readout.dataset.textFit;
      if (zoomed()) {
        const now = stage.getBoundingClientRect();
        viewport.scrollLeft += now.left + fx * now.width - x;
        viewport.scrollTop += now.top + fy * now.height - y;
      }
    };
    // Zooming out past the fitted size settles on it.
    const zoomBy = (factor, clientX, clientY) => {
      const next = (scale === null ? fitScale() : scale) * factor;
      setZoom(next <= fitScale() * 1.001 && factor < 1 ? null : next, clientX, clientY);
    };
    zoomButtons.forEach((button) => button.addEventListener("click", () => {
      setZoom(button.dataset.level === "fit" ? null : Number(button.dataset.level));
    }));
    viewport.addEventListener("wheel", (event) => {
      if (!canZoom || (!event.ctrlKey && !zoomed())) return;  // at fit size a plain wheel scrolls the page
      event.preventDefault();
      zoomBy(Math.exp(-event.deltaY * (event.deltaMode === 1 ? 0.05 : 0.002)), event.clientX, event.clientY);
    }, { passive: false });
    viewport.addEventListener("keydown", (event) => {
      if (!canZoom) return;
      if (event.key === "+" || event.key === "=") zoomBy(1.25);
      else if (event.key === "-") zoomBy(0.8);
      else return;
      event.preventDefault();
    });
    after.addEventListener("load", () => { if (zoomed()) setZoom(scale); });

    // Pointers: one drags the split (at fit size) or pans (zoomed); two pinch.
    const pointers = new Map();
    let drag = null;
    const pinchDistance = () => {
      const [a, b] = Array.from(pointers.values());
      return { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
    };
    stage.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      stage.setPointerCapture(event.pointerId);
      event.preventDefault();
      if (pointers.size === 2 && canZoom) {
        drag = { mode: "pinch", start: pinchDistance(), scale: scale === null ? fitScale() : scale };
        return;
      }
      if (pointers.size > 2) return;
      const onDivider = divider && divider.contains(event.target);
      drag = zoomed() && !onDivider
        ? { mode: "pan", x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop }
        : { mode: "split" };
      if (drag.mode === "split") splitAt(event.clientX);
      compare.classList.toggle("panning", drag.mode === "pan");
    });
    stage.addEventListener("pointermove", (event) => {
      if (!pointers.has(event.pointerId)) return;
      pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
      if (!drag) return;
      if (drag.mode === "pinch") {
        const now = pinchDistance();
        const next = drag.scale * (now.distance / drag.start.distance);
        setZoom(next <= fitScale() ? null : next, now.x, now.y);
      } else if (drag.mode === "split") splitAt(event.clientX);
      else {
        viewport.scrollLeft = drag.left - (event.clientX - drag.x);
        viewport.scrollTop = drag.top - (event.clientY - drag.y);
      }
    });
    const stop = (event) => {
      pointers.delete(event.pointerId);
      drag = null;
      compare.classList.remove("panning");
    };
    stage.addEventListener("pointerup", stop);
    stage.addEventListener("pointercancel", stop);

    // Arrow keys on the picture: move the split at fit size, pan (the browser's own scrolling)
    // when zoomed.
    viewport.addEventListener("keydown", (event) => {
      if (zoomed() || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
      const step = event.key === "ArrowLeft" ? -5 : 5;
      slider.value = String(Math.min(100, Math.max(0, Number(slider.value) + step)));
      update();
      event.preventDefault();
    });

    compare.querySelectorAll('[data-role="compare-with"]').forEach((radio) => {
      radio.addEventListener("change", () => {
        after.src = radio.dataset.src;
        after.alt = radio.dataset.alt;
        const label = compare.querySelector(".label.right");
        if (label) label.textContent = radio.dataset.label;
      });
    });
  });

  // --- history: select several --------------------------------------------------------------------
  document.querySelectorAll('[data-role="bulk"]').forEach((form) => {
    const boxes = () => Array.from(document.querySelectorAll('input[form="' + form.id + '"][name="jobs"]'));
    const all = form.querySelector('[data-role="select-all"]');
    const buttons = form.querySelectorAll('button[type="submit"]');
    const count = form.querySelector('[data-role="selected-count"]');
    const sync = () => {
      const chosen = boxes().filter((box) => box.checked).length;
      buttons.forEach((button) => { button.disabled = chosen === 0; });
      if (count) count.textContent = text(form, "Selected", { count: chosen });
      if (all) all.checked = chosen > 0 && chosen === boxes().length;
    };
    boxes().forEach((box) => box.addEventListener("change", sync));
    if (all) all.addEventListener("change", () => { boxes().forEach((box) => { box.checked = all.checked; }); sync(); });
    form.addEventListener("submit", (event) => {
      // Only deleting asks first; "download selected" just downloads.
      if (event.submitter && event.submitter.dataset.role !== "delete-selected") return;
      const chosen = boxes().filter((box) => box.checked).length;
      if (!window.confirm(text(form, "Confirm", { count: chosen }))) event.preventDefault();
    });
    sync();
  });

  document.querySelectorAll('form[data-role="filters"]').forEach((form) => {
    form.querySelectorAll("select").forEach((select) => select.addEventListener("change", () => form.submit()));
  });

  // --- simple drop zones (face enrolment, recognition) ------------------------------------------------
  document.querySelectorAll('[data-role="dropzone"]:not(#dropzone)').forEach((zone) => {
    const input = zone.querySelector('input[type="file"]');
    const list = zone.querySelector('[data-role="dropped"]');
    if (!input) return;
    // The "Choose photos" label is the visible control, as on the upload page.
    input.classList.add("visually-hidden");
    const show = () => {
      if (!list) return;
      list.replaceChildren(...Array.from(input.files).map((file) => {
        const item = document.createElement("li");
        const image = document.createElement("img");
        image.src = URL.createObjectURL(file);
        image.alt = "";
        item.append(image, document.createTextNode(file.name));
        return item;
      }));
    };
    input.addEventListener("change", show);
    dropTarget(zone, (dropped) => {
      const files = new DataTransfer();
      Array.from(dropped).slice(0, input.multiple ? undefined : 1).forEach((file) => files.items.add(file));
      input.files = files.files;
      show();
    });
  });

  // --- the upload form ------------------------------------------------------------------------------
  const uploadForm = document.getElementById("upload-form");
  if (uploadForm) setUpUpload(uploadForm);

  function setUpUpload(form) {
    const settings = JSON.parse(document.getElementById("upload-settings").textContent);
    const input = form.querySelector('input[type="file"]');
    const list = document.getElementById("chosen-files");
    const dropzone = document.getElementById("dropzone");
    const alertBox = document.getElementById("upload-alert");
    const statusLine = document.getElementById("upload-status");
    const bar = document.getElementById("upload-progress");
    const button = form.querySelector('button[type="submit"]');
    // Each chosen photo: {file, error, pixels, item}; refused ones stay listed with their
    // reason and are left out of the upload, so one bad file never costs the others.
    let chosen = [];

    form.noValidate = true;  // the checks below replace "please select a file"
    input.required = false;
    // The "Choose photos" label is the visible control; the input stays focusable under it.
    input.classList.add("visually-hidden");

    const megabytes = (bytes) => (bytes / 1048576).toFixed(1);
    const kilobytes = (bytes) => (bytes < 1048576 ? Math.round(bytes / 1024) + " KB" : megabytes(bytes) + " MB");

    function typeError(file) {
      const extension = (file.name.split(".").pop() || "").toLowerCase();
      if (file.type ? settings.types.includes(file.type) : settings.extensions.includes(extension)) return null;
      return text(form, "WrongType");
    }

    function sizeError(file) {
      if (file.size <= settings.maxBytes) return null;
      return text(form, "TooBig", { size: megabytes(file.size), limit: Math.round(settings.maxBytes / 1048576) });
    }

    function pixelError(width, height) {
      if (width * height > settings.maxPixels) {
        return text(form, "TooManyPixels", { size: (width * height / 1e6).toFixed(1), limit: Math.round(settings.maxPixels / 1e6) });
      }
      if (Math.min(width, height) < settings.minSide) {
        return text(form, "TooSmall", { dims: width + "x" + height, limit: settings.minSide });
      }
      return null;
    }

    function render(entry) {
      const item = entry.item || document.createElement("li");
      entry.item = item;
      item.className = "preview" + (entry.error ? " refused" : "");
      item.dataset.name = entry.file.name;
      // A file the browser cannot draw gets a plain tile, not a broken-image icon.
      const image = entry.error && !entry.width ? document.createElement("span") : document.createElement("img");
      image.className = "thumb";
      if (image.tagName === "IMG") { image.alt = ""; image.src = entry.url; }
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = entry.file.name;
      const facts = document.createElement("span");
      facts.className = "facts-line";
      facts.textContent = kilobytes(entry.file.size) + (entry.width ? " · " + entry.width + "×" + entry.height : "");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "secondary small";
      remove.textContent = text(form, "Remove");
      remove.setAttribute("aria-label", text(form, "RemoveNamed", { name: entry.file.name }));
      remove.addEventListener("click", () => {
        chosen = chosen.filter((other) => other !== entry);
        URL.revokeObjectURL(entry.url);
        item.remove();
        refresh();
        input.focus();
      });
      const children = [image, name, facts];
      if (entry.error) {
        const error = document.createElement("span");
        error.className = "file-error";
        error.textContent = entry.error;
        children.push(error);
      }
      children.push(remove);
      item.replaceChildren(...children);
      if (!item.parentNode) list.appendChild(item);
    }

    function inspect(entry) {
      entry.error = typeError(entry.file) || sizeError(entry.file);
      render(entry);
      if (entry.error) return refresh();
      // Decode in the browser to learn the pixel count before anything is sent.
      const probe = new Image();
      probe.onload = () => {
        entry.width = probe.naturalWidth;
        entry.height = probe.naturalHeight;
        entry.error = pixelError(entry.width, entry.height);
        render(entry);
        refresh();
      };
      probe.onerror = () => { entry.error = text(form, "NotImage"); render(entry); refresh(); };
      probe.src = entry.url;
    }

    function add(files) {
      Array.from(files).forEach((file) => {
        const duplicate = chosen.some((entry) => entry.file.name === file.name && entry.file.size === file.size && entry.file.lastModified === file.lastModified);
        if (duplicate) return;
        const entry = { file, error: null, url: URL.createObjectURL(file) };
        chosen.push(entry);
        inspect(entry);
      });
      input.value = "";
      refresh();
    }

    function sendable() { return chosen.filter((entry) => !entry.error); }

    // The message box: "error" (nothing happened), "warning" (some photos left out); never the
    // green of success for either. An optional link (to the jobs just started) follows the text.
    function showAlert(message, kind, link) {
      alertBox.replaceChildren(document.createTextNode(message || ""));
      if (link) {
        const anchor = document.createElement("a");
        anchor.href = link;
        anchor.textContent = text(form, "SeeProgress");
        alertBox.append(" ", anchor);
      }
      alertBox.hidden = !message;
      alertBox.classList.toggle("error", kind === "error");
      alertBox.classList.toggle("warning", kind === "warning");
    }

    function refresh() {
      const good = sendable();
      let message = "";
      if (good.length > settings.maxFiles) message = text(form, "TooManyFiles", { count: settings.maxFiles });
      else if (good.length && good.length < chosen.length) message = text(form, "Skipped");
      showAlert(message, good.length > settings.maxFiles ? "error" : "warning");
      updateEstimates();
    }

    // The estimates come from the server's cost model (what this server measured), for the
    // sizes the browser has read; asked again when the photos or the options change.
    let estimateTimer = null;
    let estimateRequest = 0;
    function updateEstimates() {
      clearTimeout(estimateTimer);
      estimateTimer = setTimeout(fetchEstimates, 250);
    }

    async function fetchEstimates() {
      const spans = form.querySelectorAll("[data-estimate-for]");
      const sizes = sendable().filter((entry) => entry.width).map((entry) => entry.width + "x" + entry.height);
      if (!sizes.length) { spans.forEach((span) => { span.textContent = ""; }); return; }
      const query = new URLSearchParams({ sizes: sizes.join(",") });
      form.querySelectorAll("fieldset.params select, fieldset.params input").forEach((field) => {
        if (field.name && (field.type !== "radio" || field.checked)) query.set(field.name, field.value);
      });
      const ticket = ++estimateRequest;
      let data;
      try {
        const response = await fetch(form.dataset.estimateUrl + "?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return;
        data = await response.json();
      } catch (error) {
        return;
      }
      if (ticket !== estimateRequest) return;  // a newer question is on its way
      spans.forEach((span) => {
        const found = data.operations[span.dataset.estimateFor];
        span.textContent = found && found.text ? text(form, "Estimate", { time: found.text }) : "";
      });
    }

    input.addEventListener("change", () => add(input.files));
    dropTarget(dropzone, add);

    const params = form.querySelectorAll("fieldset.params");
    const syncParams = () => {
      const operation = form.querySelector('input[name="operation"]:checked');
      params.forEach((fieldset) => { fieldset.hidden = !operation || fieldset.dataset.for !== operation.value; });
      updateEstimates();
    };
    form.querySelectorAll('input[name="operation"]').forEach((radio) => radio.addEventListener("change", syncParams));
    form.querySelectorAll("fieldset.params select, fieldset.params input").forEach((field) => field.addEventListener("change", updateEstimates));
    syncParams();

    function markRefused(payload, sent) {
      Object.entries(payload.files || {}).forEach(([index, message]) => {
        const entry = sent[Number(index)];
        if (entry) { entry.error = message; render(entry); }
      });
    }

    function showServerErrors(payload, sent) {
      markRefused(payload, sent);
      const refusedFiles = Object.keys(payload.files || {}).length;
      const messages = Object.entries(payload.errors || {})
        .filter(([field]) => field !== "photos" || !refusedFiles)
        .flatMap(([, errors]) => errors);
      // Nothing was sent: say so, whatever the photos' own marks say.
      if (refusedFiles) messages.unshift(text(form, "NoneSent"));
      showAlert(messages.join(" "), "error");
    }

    // Some photos went, some were refused: the sent ones leave the list, the refused ones stay
    // marked with their reasons, and the message says what happened with a link to the jobs.
    function showPartial(payload, sent) {
      markRefused(payload, sent);
      sent.filter((entry) => !entry.error).forEach((entry) => {
        chosen = chosen.filter((other) => other !== entry);
        URL.revokeObjectURL(entry.url);
        entry.item.remove();
      });
      updateEstimates();
      showAlert(payload.summary, "warning", payload.redirect);
    }

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const sent = sendable();
      if (!sent.length || sent.length > settings.maxFiles) {
        showAlert(sent.length ? text(form, "TooManyFiles", { count: settings.maxFiles }) : text(form, "NoFiles"), "error");
        return;
      }
      const data = new FormData(form);
      data.delete(input.name);
      sent.forEach((entry) => data.append(input.name, entry.file, entry.file.name));
      const request = new XMLHttpRequest();
      request.open("POST", form.action || window.location.href);
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", (progress) => {
        if (progress.lengthComputable) bar.value = Math.round((progress.loaded / progress.total) * 100);
      });
      const done = () => { button.disabled = false; bar.hidden = true; statusLine.textContent = ""; };
      request.addEventListener("load", () => {
        let payload = {};
        try { payload = JSON.parse(request.responseText); } catch (error) { payload = {}; }
        if (request.status === 200 && payload.redirect && !payload.files) { window.location.assign(payload.redirect); return; }
        done();
        if (request.status === 200 && payload.redirect) showPartial(payload, sent);
        else if (request.status === 400) showServerErrors(payload, sent);
        else showAlert(text(form, "UploadFailed"), "error");
      });
      request.addEventListener("error", () => { done(); showAlert(text(form, "UploadFailed"), "error"); });
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      statusLine.textContent = text(form, "Uploading");
      request.send(data);
    });
  }
})();
