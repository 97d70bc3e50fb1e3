#include "core/export/report_html.h"

#include <cstdio>

#include "core/model/summary.h"

namespace zfvis {

namespace {

const char* kStyle = R"css(
body { font-family: system-ui, sans-serif; margin: 0; background: #f4f4f2; color: #222; }
header, main, footer { max-width: 1200px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 16px; }
h1 { font-size: 1.6em; margin: 8px 0; }
h2 { font-size: 1.25em; margin: 0 0 6px 0; }
.banner { background: #b3261e; color: #fff; padding: 10px 20px; font-weight: 600; }
.meta { color: #555; margin: 4px 0 12px 0; }
nav { background: #fff; border: 1px solid #ddd; padding: 8px 12px; margin: 12px 0;
      font-size: 0.9em; line-height: 1.8; display: flex; flex-wrap: wrap; gap: 0 12px; }
nav a { white-space: nowrap; max-width: 100%; overflow: hidden; text-overflow: ellipsis; }
section { background: #fff; border: 1px solid #ddd; margin: 14px 0; padding: 14px 16px; }
.shape { font-family: ui-monospace, monospace; background: #eee; padding: 1px 5px; }
.figs { display: flex; flex-wrap: wrap; gap: 14px; align-items: flex-start; }
figure { margin: 0; max-width: 100%; }
figure img { max-width: 100%; max-height: 640px; border: 1px solid #ccc; background: #222;
             image-rendering: pixelated; }
figcaption { font-size: 0.85em; color: #444; margin-top: 4px; max-width: 600px; }
table { border-collapse: collapse; }
td, th { padding: 3px 10px; border-bottom: 1px solid #e4e4e4; text-align: left; }
td.num { text-align: right; font-family: ui-monospace, monospace; }
pre { background: #f7f7f7; border: 1px solid #e2e2e2; padding: 10px; overflow-x: auto;
      font-size: 0.85em; }
.note { color: #7a4b00; font-size: 0.9em; }
footer { color: #666; font-size: 0.85em; padding-bottom: 24px; }
)css";

std::string anchor(int layerIndex) {
  return "layer-" + std::to_string(layerIndex);
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string figure(const ExportedFile& img, const ExportedFile* data) {
  std::string s = "<figure><a href=\"" + htmlEscape(img.path) + "\"><img src=\"" +
                  htmlEscape(img.path) + "\" alt=\"" + htmlEscape(img.description) +
                  "\" loading=\"lazy\"></a><figcaption>" + htmlEscape(img.description);
  if (!img.normalization.empty()) s += " Normalisation: " + htmlEscape(img.normalization) + ".";
  if (data)
    s += " <a href=\"" + htmlEscape(data->path) + "\">" + htmlEscape(data->kind) + " (.npy, " +
         htmlEscape(data->shape.str()) + ")</a>";
  return s + "</figcaption></figure>\n";
}

const ExportedFile* findKind(const ReportPage& page, const std::vector<size_t>& files,
                             const std::string& kind) {
  for (size_t i : files)
    if (page.files[i].kind == kind) return &page.files[i];
  return nullptr;
}

}  // namespace

std::string htmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string reportHtml(const ReportPage& page) {
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>zfvis report: " + htmlEscape(page.model) + "</title>\n";
  h += "<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
  if (page.untrained)
    h += "<div class=\"banner\">UNTRAINED: this built-in model has He-normal random weights. "
         "Activations, filters and projections show the architecture, not learned features; "
         "the predictions are meaningless.</div>\n";
  h += "<header>\n<h1>" + htmlEscape(page.model) + "</h1>\n";
  h += "<p class=\"meta\">" + htmlEscape(page.description) +
       " &middot; input <span class=\"shape\">" + htmlEscape(page.inputShape.str()) +
       "</span> from " + htmlEscape(page.imageName) + " (" + htmlEscape(page.preprocess) +
       " preprocessing) &middot; " + htmlEscape(thousandsSeparated(page.params)) +
       " parameters &middot; projections: " + htmlEscape(page.projections) + "</p>\n";
  h += "<nav><a href=\"#input\">Input</a><a href=\"#predictions\">Predictions</a>"
       "<a href=\"#summary\">Summary</a>";
  for (const ReportLayer& l : page.layers)
    h += "<a href=\"#" + anchor(l.index) + "\">" + std::to_string(l.index) + " " +
         htmlEscape(l.name) + "</a>";
  for (const ReportSection& x : page.sections)
    h += "<a href=\"#" + htmlEscape(x.id) + "\">" + htmlEscape(x.title) + "</a>";
  h += "</nav>\n</header>\n<main>\n";

  // Input and predictions.
  std::vector<size_t> all(page.files.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  h += "<section id=\"input\"><h2>Input</h2><div class=\"figs\">\n";
  if (const ExportedFile* in = findKind(page, all, "input"))
    h += figure(*in, findKind(page, all, "input-data"));
  h += "</div></section>\n";
  h += "<section id=\"predictions\"><h2>Predictions</h2>\n<table><tr><th>#</th><th>class</th>"
       "<th>label</th><th>probability</th></tr>\n";
  for (const ReportPrediction& p : page.predictions)
    h += "<tr><td class=\"num\">" + std::to_string(p.rank) + "</td><td class=\"num\">" +
         std::to_string(p.classIndex) + "</td><td>" + htmlEscape(p.label) +
         "</td><td class=\"num\">" + fmt("%.5f", p.probability) + "</td></tr>\n";
  h += "</table>\n<p>";
  if (const ExportedFile* j = findKind(page, all, "predictions"))
    h += "<a href=\"" + htmlEscape(j->path) + "\">predictions.json</a> ";
  if (const ExportedFile* t = findKind(page, all, "predictions-text"))
    h += "<a href=\"" + htmlEscape(t->path) + "\">predictions.txt</a>";
  h += "</p></section>\n";
  h += "<section id=\"summary\"><h2>Model summary</h2>\n<pre>" + htmlEscape(page.summary) +
       "</pre>\n";
  for (const std::string& n : page.notes) h += "<p class=\"note\">" + htmlEscape(n) + "</p>\n";
  if (const ExportedFile* s = findKind(page, all, "summary"))
    h += "<p><a href=\"" + htmlEscape(s->path) + "\">summary.txt</a></p>";
  h += "</section>\n";

  // One section per layer.
  for (const ReportLayer& l : page.layers) {
    h += "<section id=\"" + anchor(l.index) + "\"><h2>" + std::to_string(l.index) + " " +
         htmlEscape(l.name) + " (" + htmlEscape(l.type) + ")</h2>\n";
    h += "<p class=\"meta\">output <span class=\"shape\">" + htmlEscape(l.shape.str()) +
         "</span> &middot; " + htmlEscape(thousandsSeparated(l.params)) +
         " parameters &middot; input: " + htmlEscape(l.inputs);
    if (!l.details.empty()) h += " &middot; " + htmlEscape(l.details);
    h += "</p>\n<div class=\"figs\">\n";
    const ExportedFile* actData = findKind(page, l.files, "activations-data");
    const ExportedFile* weights = findKind(page, l.files, "weights");
    bool actShown = false, weightsShown = false;
    for (size_t i : l.files) {
      const ExportedFile& f = page.files[i];
      if (f.kind == "activations") {
        h += figure(f, actData);
        actShown = true;
      } else if (f.kind == "filters") {
        h += figure(f, weights);
        weightsShown = true;
      } else if (f.kind == "projections") {
        h += figure(f, nullptr);
      }
    }
    h += "</div>\n";
    if (actData && !actShown)
      h += "<p><a href=\"" + htmlEscape(actData->path) + "\">activations (.npy, " +
           htmlEscape(actData->shape.str()) + ")</a></p>\n";
    if (weights && !weightsShown)
      h += "<p><a href=\"" + htmlEscape(weights->path) + "\">weights (.npy, " +
           htmlEscape(weights->shape.str()) + ")</a></p>\n";
    for (const std::string& n : l.notes) h += "<p class=\"note\">" + htmlEscape(n) + "</p>\n";
    h += "</section>\n";
  }
  for (const ReportSection& x : page.sections) {
    h += "<section id=\"" + htmlEscape(x.id) + "\"><h2>" + htmlEscape(x.title) +
         "</h2>\n<p class=\"meta\">" + htmlEscape(x.text) + "</p>\n<div class=\"figs\">\n";
    for (size_t i : x.files) h += figure(page.files[i], nullptr);
    h += "</div>\n</section>\n";
  }
  h += "</main>\n<footer><p>Written by zfvis " ZFVIS_VERSION
       ". Every file is listed with what it shows in <a href=\"manifest.json\">manifest.json</a>; "
       "every PNG carries its model, layer, view, mode and normalisation in text chunks.</p>"
       "</footer>\n</body>\n</html>\n";
  return h;
}

}  // namespace zfvis
