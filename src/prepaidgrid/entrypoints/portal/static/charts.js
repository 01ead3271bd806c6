/* Draws every .chart[data-series] with uPlot. The page also carries the figures as a
   table, so without JS (or without uPlot) nothing is lost and this file does nothing.
   data-series: {"x": [unix seconds...], "y": [numbers...], "label": "kWh",
                 "kind": "bars" | "line"}; times are shown in IST, dates as 12-09-2025. */
(function () {
  "use strict";

  var HEIGHT = 200;
  var drawn = []; // {el, json, plot}, one per chart on the page

  function istDate(seconds) {
    try {
      return window.uPlot.tzDate(new Date(seconds * 1000), "Asia/Kolkata");
    } catch (e) { // an old browser without time zones in Intl: its own clock
      return new Date(seconds * 1000);
    }
  }

  function pad(n) {
    return n < 10 ? "0" + n : String(n);
  }

  // Indian order (day first), 24-hour clock: never uPlot's default 9/1 and 6pm.
  function dateText(seconds, withTime) {
    var d = istDate(seconds);
    var day = pad(d.getDate()) + "-" + pad(d.getMonth() + 1) + "-" + d.getFullYear();
    return withTime ? day + " " + pad(d.getHours()) + ":" + pad(d.getMinutes()) : day;
  }

  function tickTexts(u, splits, axis, space, step) {
    return splits.map(function (seconds) {
      var d = istDate(seconds);
      if (step >= 28 * 86400) {
        return pad(d.getMonth() + 1) + "/" + d.getFullYear();
      }
      if (step >= 86400) {
        return d.getDate() + "/" + (d.getMonth() + 1);
      }
      return pad(d.getHours()) + ":" + pad(d.getMinutes());
    });
  }

  function parse(json) {
    try {
      var s = JSON.parse(json);
      if (!s || !Array.isArray(s.x) || !Array.isArray(s.y) || s.x.length !== s.y.length) {
        return null;
      }
      return s;
    } catch (e) {
      return null;
    }
  }

  // Bars sit on the x values: pad the range by half a step so the end bars are whole.
  function barRange(u, min, max) {
    var xs = u.data[0];
    var step = xs.length > 1 ? (xs[xs.length - 1] - xs[0]) / (xs.length - 1) : 86400;
    return [min - step / 2, max + step / 2];
  }

  function fromZero(u, min, max) {
    return [Math.min(0, min), max > 0 ? max * 1.1 : 1];
  }

  function options(s, width) {
    var bars = s.kind === "bars";
    var daily = s.x.length < 2 || s.x[1] - s.x[0] >= 86400;
    var time = {
      label: document.documentElement.lang === "hi" ? "\u0938\u092e\u092f" : "Time", // समय
      value: function (u, seconds) {
        return seconds == null ? "--" : dateText(seconds, !daily);
      }
    };
    var line = {
      label: String(s.label || ""),
      stroke: "#0b4f9c",
      width: bars ? 1 : 2,
      fill: bars ? "rgba(11, 79, 156, 0.6)" : "rgba(11, 79, 156, 0.12)",
      points: { show: !bars && s.x.length <= 60 }
    };
    if (bars) {
      line.paths = window.uPlot.paths.bars({ size: [0.7, 48] });
    }
    var opts = {
      width: width,
      height: HEIGHT,
      tzDate: istDate,
      scales: { x: { time: true }, y: { range: fromZero } },
      series: [time, line],
      axes: [{ values: tickTexts }, { size: 50 }]
    };
    if (bars) {
      opts.scales.x.range = barRange;
    }
    return opts;
  }

  function draw(el, json) {
    var s = parse(json);
    if (!s) {
      return;
    }
    el.textContent = "";
    try {
      var plot = new window.uPlot(options(s, el.clientWidth || 320), [s.x, s.y], el);
      drawn.push({ el: el, json: json, plot: plot });
    } catch (e) { // one bad chart must not stop the others; its table still shows the figures
      el.textContent = "";
    }
  }

  // Forget charts that htmx swapped out, and redraw any whose data changed.
  function scan() {
    if (typeof window.uPlot !== "function") {
      return;
    }
    drawn = drawn.filter(function (c) {
      var keep = document.body.contains(c.el) && c.el.getAttribute("data-series") === c.json;
      if (!keep) {
        c.plot.destroy();
      }
      return keep;
    });
    var els = document.querySelectorAll(".chart[data-series]");
    for (var i = 0; i < els.length; i++) {
      var known = drawn.some(function (c) { return c.el === els[i]; });
      if (!known) {
        draw(els[i], els[i].getAttribute("data-series"));
      }
    }
  }

  var pending = false;
  function resize() {
    if (pending) {
      return;
    }
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      drawn.forEach(function (c) {
        var width = c.el.clientWidth;
        if (width && width !== c.plot.width) {
          c.plot.setSize({ width: width, height: HEIGHT });
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", scan);
  } else {
    scan();
  }
  document.addEventListener("htmx:afterSwap", scan);
  document.addEventListener("htmx:historyRestore", scan);
  window.addEventListener("resize", resize);
})();
