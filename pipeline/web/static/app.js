// goalforms: link parsed values and their source (click a row, see its line/cell), and confirm
// destructive buttons. No inline scripts anywhere (the Content-Security-Policy forbids them).
"use strict";

function sourceElements(loc) {
  return Array.from(document.querySelectorAll(".source [data-loc]")).filter((el) => el.dataset.loc === loc);
}

function select(loc) {
  document.querySelectorAll(".sel").forEach((el) => el.classList.remove("sel"));
  if (!loc) return;
  document.querySelectorAll("[data-loc]").forEach((el) => {
    if (el.dataset.loc === loc) el.classList.add("sel");
  });
  const first = sourceElements(loc)[0];
  if (first) first.scrollIntoView({ block: "center", behavior: "smooth" });
}

document.addEventListener("click", (event) => {
  const target = event.target;
  if (!(target instanceof Element)) return;
  const confirmer = target.closest("[data-confirm]");
  if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm"))) {
    event.preventDefault();
    return;
  }
  if (target.closest("input, textarea, select, button, a:not(.locate)")) return;
  const holder = target.closest(".data [data-loc]");
  if (holder) {
    event.preventDefault();
    select(holder.getAttribute("data-loc"));
  }
});

// Warn before leaving the edit form with unsaved typing (a row button submits another form).
const edit = document.getElementById("edit");
if (edit) {
  let dirty = false;
  edit.addEventListener("input", () => { dirty = true; });
  edit.addEventListener("submit", () => { dirty = false; });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });
}

// The source opens on the first flagged cell (its box on a page, its cell in a sheet).
const focus = document.querySelector(".source .focus");
if (focus) focus.scrollIntoView({ block: "center" });
