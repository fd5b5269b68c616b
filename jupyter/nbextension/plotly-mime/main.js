// Classic Jupyter Notebook (6.x) renderer for application/vnd.plotly.v1+json, the MIME
// type lib/plots/figures.ts showFigure emits (JupyterLab renders it with jupyterlab-plotly).
// plotly.min.js is served from this folder (copied by scripts/setup-jupyter.sh): no CDN.
define(["base/js/namespace", "notebook/js/outputarea", "require"], function (Jupyter, outputarea, require) {
  "use strict";
  var MIME = "application/vnd.plotly.v1+json";
  var plotly = null;
  var waiting = [];

  function withPlotly(fn) {
    if (plotly) return fn(plotly);
    waiting.push(fn);
    if (waiting.length > 1) return;
    require(["./plotly.min"], function (P) {
      plotly = P || window.Plotly;
      var fns = waiting;
      waiting = [];
      fns.forEach(function (f) {
        f(plotly);
      });
    });
  }

  function append(json, md, element) {
    var toinsert = this.create_output_subarea(md, "output_plotly", MIME);
    var div = document.createElement("div");
    div.className = "plotly-mime-figure";
    toinsert.append(div);
    element.append(toinsert);
    withPlotly(function (P) {
      var layout = Object.assign({}, json.layout || {});
      P.newPlot(div, json.data || [], layout, Object.assign({ displaylogo: false }, json.config || {}));
    });
    return toinsert;
  }

  function load_ipython_extension() {
    outputarea.OutputArea.prototype.register_mime_type(MIME, append, { safe: true, index: 0 });
    // Outputs drawn before this extension loaded fell back to the PNG: redraw them.
    Jupyter.notebook.get_cells().forEach(function (cell) {
      var area = cell.output_area;
      if (
        !area ||
        !area.outputs.some(function (o) {
          return o.data && o.data[MIME];
        })
      )
        return;
      var outputs = area.toJSON();
      area.clear_output(false, true);
      area.fromJSON(outputs);
    });
    console.log("plotly-mime: renderer for " + MIME + " registered");
  }

  return { load_ipython_extension: load_ipython_extension };
});
