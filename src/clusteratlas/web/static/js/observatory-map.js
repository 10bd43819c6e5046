// The choropleth of the observatory pages (issue 7), drawn with MapLibre GL and no base map:
// the only source is the GeoJSON of the dataset's regions, fetched from this site. The figures
// come from <script type="application/json" id="obs-map-data">: {geometry (URL), label,
// classes {code: colour class}, values {code: text}, names {code: name}, link, link_query,
// attribution}. The colours are those of the legend's swatches (observatory.css), so the map
// and its legend cannot disagree. No inline code or style: the page's CSP forbids them.
import {
  AttributionControl,
  LngLatBounds,
  Map as MapLibreMap,
  Popup,
} from "/static/vendor/maplibre-gl.mjs";

const NO_VALUE = -1;

function colours() {
  const out = new Map();
  document.querySelectorAll(".obs-legend .obs-swatch[data-class]").forEach((swatch) => {
    out.set(Number(swatch.dataset.class), getComputedStyle(swatch).backgroundColor);
  });
  return out;
}

function fillColour(palette) {
  const expression = ["match", ["get", "cls"]];
  palette.forEach((colour, cls) => {
    if (cls !== NO_VALUE) {
      expression.push(cls, colour);
    }
  });
  const fallback = palette.get(NO_VALUE) || "#d9dde3";
  if (expression.length === 2) {
    return fallback;
  }
  expression.push(fallback);
  return expression;
}

function extend(bounds, coordinates) {
  if (typeof coordinates[0] === "number") {
    bounds.extend(coordinates);
  } else {
    coordinates.forEach((c) => extend(bounds, c));
  }
}

function boundsOf(collection) {
  const bounds = new LngLatBounds();
  collection.features.forEach((feature) => {
    if (feature.geometry) {
      extend(bounds, feature.geometry.coordinates);
    }
  });
  return bounds.isEmpty() ? null : bounds;
}

function eachPoint(coordinates, visit) {
  if (typeof coordinates[0] === "number") {
    visit(coordinates);
  } else {
    coordinates.forEach((c) => eachPoint(c, visit));
  }
}

// Shapes across the antimeridian (Alaska's Aleutians, Pacific islands) would stretch the
// bounds around the world and leave the regions a speck: when moving the eastern longitudes
// 360° west makes the collection narrower, move them (the map then shows them side by side).
function keepTogether(collection) {
  let west = Infinity;
  let east = -Infinity;
  let shiftedWest = Infinity;
  let shiftedEast = -Infinity;
  const features = collection.features.filter((feature) => feature.geometry);
  features.forEach((feature) => {
    eachPoint(feature.geometry.coordinates, (p) => {
      const shifted = p[0] > 0 ? p[0] - 360 : p[0];
      west = Math.min(west, p[0]);
      east = Math.max(east, p[0]);
      shiftedWest = Math.min(shiftedWest, shifted);
      shiftedEast = Math.max(shiftedEast, shifted);
    });
  });
  if (shiftedEast - shiftedWest < east - west) {
    features.forEach((feature) => {
      eachPoint(feature.geometry.coordinates, (p) => {
        if (p[0] > 0) {
          p[0] -= 360;
        }
      });
    });
  }
}

function say(element, text) {
  element.textContent = "";
  const p = document.createElement("p");
  p.className = "obs-map-message";
  p.textContent = text;
  element.appendChild(p);
  element.classList.add("obs-map-failed");
}

function popupContent(label, name, value) {
  const box = document.createElement("div");
  const title = document.createElement("strong");
  title.textContent = name;
  const line = document.createElement("div");
  line.textContent = `${label}: ${value}`;
  box.append(title, line);
  return box;
}

async function start(element, data) {
  let collection;
  try {
    const response = await fetch(data.geometry, { headers: { Accept: "application/geo+json" } });
    if (!response.ok) {
      throw new Error(`HTTP ${response.status}`);
    }
    collection = await response.json();
  } catch (error) {
    say(element, "The map could not be loaded; the table below has every region.");
    return;
  }
  collection.features.forEach((feature) => {
    const code = feature.properties.code;
    feature.properties.cls = code in data.classes ? data.classes[code] : NO_VALUE;
  });
  keepTogether(collection);
  const bounds = boundsOf(collection);
  if (bounds === null) {
    say(element, "None of the loaded shapes matches a region of this dataset.");
    return;
  }
  const map = new MapLibreMap({
    container: element,
    style: {
      version: 8,
      sources: { regions: { type: "geojson", data: collection, promoteId: "code" } },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#eef2f6" } },
        {
          id: "regions-fill",
          type: "fill",
          source: "regions",
          paint: {
            "fill-color": fillColour(colours()),
            "fill-opacity": ["case", ["boolean", ["feature-state", "hover"], false], 1, 0.85],
          },
        },
        {
          id: "regions-line",
          type: "line",
          source: "regions",
          paint: { "line-color": "#ffffff", "line-width": 0.6 },
        },
      ],
    },
    bounds,
    fitBoundsOptions: { padding: 16 },
    attributionControl: false,
    dragRotate: false,
    pitchWithRotate: false,
    renderWorldCopies: false,
  });
  // no NavigationControl: its icons are data: URLs, which the CSP (img-src 'self') blocks;
  // the wheel, double-click, drag and keyboard zoom and pan
  if (data.attribution) {
    map.addControl(new AttributionControl({ compact: false, customAttribution: data.attribution }));
  }
  const popup = new Popup({ closeButton: false, closeOnClick: false, maxWidth: "18rem" });
  let hovered = null;
  const clear = () => {
    if (hovered !== null) {
      map.setFeatureState({ source: "regions", id: hovered }, { hover: false });
    }
    hovered = null;
  };
  map.on("mousemove", "regions-fill", (event) => {
    const feature = event.features && event.features[0];
    if (!feature) {
      return;
    }
    const code = feature.properties.code;
    if (hovered !== code) {
      clear();
      hovered = code;
      map.setFeatureState({ source: "regions", id: code }, { hover: true });
    }
    map.getCanvas().classList.add("obs-pointer");
    const name = `${data.names[code] || feature.properties.name || code} (${code})`;
    const value = code in data.values ? data.values[code] : "–";
    popup.setLngLat(event.lngLat).setDOMContent(popupContent(data.label, name, value)).addTo(map);
  });
  map.on("mouseleave", "regions-fill", () => {
    clear();
    map.getCanvas().classList.remove("obs-pointer");
    popup.remove();
  });
  map.on("click", "regions-fill", (event) => {
    const feature = event.features && event.features[0];
    if (feature && feature.properties.code in data.names) {
      window.location.assign(
        data.link + encodeURIComponent(feature.properties.code) + (data.link_query || ""),
      );
    }
  });
  map.on("load", () => {
    element.dataset.mapReady = String(collection.features.length);
  });
  // for the browser tests: the map and the figures it was drawn from
  window.clusterAtlasMap = { map, data, features: collection.features.length };
}

const source = document.getElementById("obs-map-data");
const element = document.getElementById("obs-map");
if (source && element) {
  start(element, JSON.parse(source.textContent));
}
