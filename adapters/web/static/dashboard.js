// Draws the dashboard's charts with plotly.js from /dashboard/data.json.
(() => {
  "use strict";
  const INK = "#1d2430";
  const MUTED = "#667085";
  const GRID = "#eceef2";
  const ACCENT = "#0f766e";
  const WARN = "#d97706";
  const FONT = { family: "Inter, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size: 12, color: INK };
  const CONFIG = { displayModeBar: false, responsive: true };

  function layout(extra) {
    return Object.assign(
      {
        font: FONT,
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        margin: { l: 48, r: 28, t: 8, b: 40 },
        xaxis: { gridcolor: GRID, linecolor: GRID, tickfont: { color: MUTED } },
        yaxis: { gridcolor: GRID, linecolor: GRID, tickfont: { color: MUTED }, zeroline: false },
        showlegend: false,
        hoverlabel: { font: FONT, bgcolor: "#fff", bordercolor: GRID },
      },
      extra
    );
  }

  function weekLabel(iso) {
    const d = new Date(iso + "T00:00:00Z");
    return d.toLocaleDateString("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });
  }

  function empty(el, text) {
    el.classList.add("chart-empty");
    el.textContent = text;
  }

  // Week labels along the bottom: on a narrow chart (a phone) fewer of them, and the margin
  // grows to fit them, turned if they must be, so none is cut by the chart's edge.
  function weekAxis(el) {
    const narrow = el.clientWidth < 520;
    return {
      automargin: true,
      nticks: narrow ? 4 : 0,
      gridcolor: GRID,
      linecolor: GRID,
      tickfont: { color: MUTED },
    };
  }

  // Names down the side in full: on a narrow chart a long one is wrapped onto lines of about
  // `width` characters rather than cut or left to squeeze the plot into a sliver.
  function nameAxis(el, names, extra) {
    const width = el.clientWidth < 520 ? 16 : 40;
    const wrap = (name) => {
      const lines = [];
      for (const word of name.split(" ")) {
        const last = lines.length - 1;
        if (last >= 0 && (lines[last] + " " + word).length <= width) lines[last] += " " + word;
        else lines.push(word);
      }
      return lines.join("<br>");
    };
    return Object.assign(
      { automargin: true, tickfont: { color: INK }, tickmode: "array", tickvals: names, ticktext: names.map(wrap) },
      extra
    );
  }

  function draw(data) {
    const weeks = data.weeks.map(weekLabel);

    const coverage = document.getElementById("chart-coverage");
    Plotly.newPlot(
      coverage,
      [
        {
          x: weeks,
          y: data.coverage.share,
          customdata: data.coverage.within.map((w, i) => [w, data.coverage.clients[i]]),
          hovertemplate: "Week of %{x}<br>%{y:.0f}% within cadence (%{customdata[0]} of %{customdata[1]})<extra></extra>",
          type: "scatter",
          mode: "lines+markers",
          line: { color: ACCENT, width: 2.5 },
          connectgaps: false,
          marker: { size: 7, color: ACCENT },
          fill: "tozeroy",
          fillcolor: "rgba(15,118,110,0.10)",
        },
      ],
      layout({
        height: 240,
        xaxis: weekAxis(coverage),
        yaxis: { range: [0, 105], ticksuffix: "%", gridcolor: GRID, tickfont: { color: MUTED } },
      }),
      CONFIG
    );

    const overdue = document.getElementById("chart-overdue");
    if (data.overdue.owners.length) {
      Plotly.newPlot(
        overdue,
        [
          {
            y: data.overdue.owners,
            x: data.overdue.counts,
            type: "bar",
            orientation: "h",
            marker: { color: WARN },
            hovertemplate: "%{y}: %{x} overdue<extra></extra>",
          },
        ],
        layout({
          height: Math.max(160, 40 + 34 * data.overdue.owners.length),
          margin: { l: 16, r: 16, t: 8, b: 32 },
          yaxis: nameAxis(overdue, data.overdue.owners, { autorange: "reversed" }),
          xaxis: { dtick: 1, gridcolor: GRID, tickfont: { color: MUTED }, rangemode: "tozero" },
        }),
        CONFIG
      );
    } else {
      empty(overdue, "No client is overdue.");
    }

    // Load: one row per person, names in full down the side (a long name takes the margin it
    // needs rather than being cut), the target range as a grey band behind each bar.
    const load = document.getElementById("chart-load");
    if (data.load.people.length) {
      const mid = data.load.low.map((lo, i) => (lo === null ? null : (lo + data.load.high[i]) / 2));
      const half = data.load.low.map((lo, i) => (lo === null ? null : (data.load.high[i] - lo) / 2));
      const top = Math.max(...data.load.owned, ...data.load.high.map((h) => h || 0));
      Plotly.newPlot(
        load,
        [
          {
            y: data.load.people,
            x: mid,
            type: "scatter",
            mode: "markers",
            marker: { size: 1, color: "rgba(0,0,0,0)" },
            error_x: { type: "data", array: half, color: "#98a2b3", thickness: 10, width: 0 },
            hovertemplate: "%{y}: target range<extra></extra>",
          },
          {
            y: data.load.people,
            x: data.load.owned,
            type: "bar",
            orientation: "h",
            width: 0.35,
            marker: {
              color: data.load.status.map((s) => (s === "within" ? ACCENT : s === "no target" ? "#98a2b3" : WARN)),
            },
            hovertemplate: "%{y}: owns %{x}<extra></extra>",
          },
        ],
        layout({
          height: Math.max(160, 40 + 34 * data.load.people.length),
          margin: { l: 16, r: 16, t: 8, b: 32 },
          yaxis: nameAxis(load, data.load.people, { autorange: "reversed" }),
          xaxis: {
            rangemode: "tozero",
            dtick: Math.max(1, Math.ceil(top / 5)),
            gridcolor: GRID,
            tickfont: { color: MUTED },
          },
        }),
        CONFIG
      );
    } else {
      empty(load, "Nobody owns a client yet.");
    }

    const heat = document.getElementById("chart-heatmap");
    if (data.heatmap.clients.length) {
      Plotly.newPlot(
        heat,
        [
          {
            z: data.heatmap.z,
            x: weeks,
            y: data.heatmap.clients,
            type: "heatmap",
            xgap: 3,
            ygap: 3,
            colorscale: [
              [0, "#f1f3f6"],
              [0.001, "#cdebe6"],
              [1, "#0f766e"],
            ],
            zmin: 0,
            showscale: false,
            hovertemplate: "%{y}, week of %{x}: %{z} touches<extra></extra>",
          },
        ],
        layout({
          height: Math.max(150, 60 + 28 * data.heatmap.clients.length),
          margin: { l: 16, r: 16, t: 8, b: 40 },
          yaxis: nameAxis(heat, data.heatmap.clients, {}),
          xaxis: weekAxis(heat),
        }),
        CONFIG
      );
    } else {
      empty(heat, "No clients yet.");
    }
  }

  const picker = document.getElementById("workspace");
  if (picker) picker.addEventListener("change", () => picker.form.submit());

  fetch("/dashboard/data.json" + location.search, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      if (data.empty) return;
      if (typeof Plotly === "undefined") {
        document.querySelectorAll("[data-chart]").forEach((el) => empty(el, "Charts need the plotly package (pip install plotly)."));
        return;
      }
      draw(data);
      document.body.dataset.charts = "ready";
    });
})();
