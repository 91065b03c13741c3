// Photos from the camera are made small in the browser before they are stored or sent:
// JPEG, at most 1600 px on the long side (a phone photo of 4-12 MB becomes ~300 KB, which
// matters on a market's mobile network). Drawing on a canvas also drops the EXIF data.
const LONG_SIDE = 1600;

function decode(file) {
  if (typeof createImageBitmap === "function") {
    return createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => viaImage(file));
  }
  return viaImage(file);
}

function viaImage(file) {
  return new Promise((resolve, reject) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { URL.revokeObjectURL(url); resolve(img); };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error("This file is not a photo we can read")); };
    img.src = url;
  });
}

export async function resizePhoto(file, longSide = LONG_SIDE, quality = 0.85) {
  const image = await decode(file);
  const width0 = image.width || image.naturalWidth;
  const height0 = image.height || image.naturalHeight;
  const scale = Math.min(1, longSide / Math.max(width0, height0));
  const width = Math.max(1, Math.round(width0 * scale));
  const height = Math.max(1, Math.round(height0 * scale));
  if (typeof OffscreenCanvas === "function") {
    const canvas = new OffscreenCanvas(width, height);
    canvas.getContext("2d").drawImage(image, 0, 0, width, height);
    image.close?.();
    return canvas.convertToBlob({ type: "image/jpeg", quality });
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  canvas.getContext("2d").drawImage(image, 0, 0, width, height);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("Could not prepare the photo"))), "image/jpeg", quality));
}
