// Progress polling, the before/after slider and small form helpers. No framework needed.
(function () {
  "use strict";

  function poll(element) {
    const url = element.dataset.statusUrl;
    const isDetail = element.id === "job";
    const tick = async () => {
      let data;
      try {
        const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!response.ok) return setTimeout(tick, 3000);
        data = await response.json();
      } catch (error) {
        return setTimeout(tick, 3000);
      }
      const status = element.querySelector('[data-role="status"]');
      const progress = element.querySelector('[data-role="progress"]');
      const percent = element.querySelector('[data-role="percent"]');
      if (status) { status.textContent = data.status; status.className = "status " + data.status; }
      if (progress) progress.value = data.progress;
      if (percent) percent.textContent = data.progress + "%";
      element.classList.remove("queued", "running");
      element.classList.add(data.status);
      if (data.status === "succeeded" || data.status === "failed") {
        element.dataset.finished = "1";
        if (isDetail) window.location.reload();
        return;
      }
      setTimeout(tick, 1000);
    };
    setTimeout(tick, 500);
  }

  document.querySelectorAll('[data-status-url][data-finished="0"]').forEach(poll);

  document.querySelectorAll('[data-role="compare"]').forEach((compare) => {
    const slider = compare.querySelector(".slider");
    const wrap = compare.querySelector(".after-wrap");
    const update = () => { wrap.style.clipPath = "inset(0 0 0 " + slider.value + "%)"; };
    slider.addEventListener("input", update);
    update();
  });

  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });

  const uploadForm = document.getElementById("upload-form");
  if (uploadForm) {
    const input = uploadForm.querySelector('input[type="file"]');
    const list = document.getElementById("chosen-files");
    const dropzone = document.getElementById("dropzone");
    const showFiles = () => {
      list.innerHTML = "";
      Array.from(input.files).forEach((file) => {
        const item = document.createElement("li");
        item.textContent = file.name + " (" + Math.round(file.size / 1024) + " KB)";
        list.appendChild(item);
      });
    };
    input.addEventListener("change", showFiles);
    ["dragenter", "dragover"].forEach((name) => dropzone.addEventListener(name, (event) => {
      event.preventDefault(); dropzone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => dropzone.addEventListener(name, () => dropzone.classList.remove("over")));
    dropzone.addEventListener("drop", (event) => {
      event.preventDefault();
      input.files = event.dataTransfer.files;
      showFiles();
    });
    const params = uploadForm.querySelectorAll("fieldset.params");
    const syncParams = () => {
      const chosen = uploadForm.querySelector('input[name="operation"]:checked');
      params.forEach((fieldset) => {
        fieldset.hidden = !chosen || fieldset.dataset.for !== chosen.value;
      });
    };
    uploadForm.querySelectorAll('input[name="operation"]').forEach((radio) => radio.addEventListener("change", syncParams));
    syncParams();
    uploadForm.addEventListener("submit", () => {
      const button = uploadForm.querySelector('button[type="submit"]');
      button.disabled = true; button.textContent = "Uploading…";
    });
  }
})();
