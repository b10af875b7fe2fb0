// The 3D host matrix (three.js, served by the node from /vendor). Hosts sit at their (x, y, z)
// grid coordinates, coloured by reputation and sized by capacity, inside one box per zone.
// Rendered on demand (a change or a drag), not in a loop, so an idle page costs nothing.
import * as THREE from '/vendor/three.module.js'

const BACKGROUND = 0x0b1220
const ZONE_COLORS = [0x60a5fa, 0xf472b6, 0xfbbf24, 0x34d399, 0xa78bfa, 0xf87171, 0x22d3ee, 0xa3e635]
const SIZE = 100 // scene units the hosts' bounding box is scaled to

function hasWebGL() {
  const probe = document.createElement('canvas')
  return Boolean(probe.getContext('webgl2') ?? probe.getContext('webgl'))
}

function reputationColor(bp) {
  const c = new THREE.Color()
  c.setHSL((Math.max(0, Math.min(10000, bp)) / 10000) * (130 / 360), 0.7, 0.5)
  return c
}

function textSprite(text, color = '#e2e8f0', scale = 1) {
  const canvas = document.createElement('canvas')
  const g = canvas.getContext('2d')
  const font = '600 28px system-ui, sans-serif'
  g.font = font
  canvas.width = Math.ceil(g.measureText(text).width) + 16
  canvas.height = 40
  g.font = font
  g.fillStyle = color
  g.textBaseline = 'middle'
  g.fillText(text, 8, 20)
  const texture = new THREE.CanvasTexture(canvas)
  texture.colorSpace = THREE.SRGBColorSpace
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: texture, depthTest: false, transparent: true }))
  sprite.scale.set((canvas.width / 40) * 4 * scale, 4 * scale, 1)
  sprite.renderOrder = 10
  return sprite
}

function disposeTree(obj) {
  obj.traverse((o) => {
    o.geometry?.dispose()
    if (o.material) {
      o.material.map?.dispose()
      o.material.dispose()
    }
  })
}

/** Builds the view in `container`; throws when WebGL is missing (the page then shows a message). */
export async function createMatrix(container, { gridSize, onPick }) {
  if (!hasWebGL()) throw new Error('WebGL is not available')
  const canvas = document.createElement('canvas')
  container.prepend(canvas)
  let renderer
  try {
    renderer = new THREE.WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true })
  } catch (err) {
    canvas.remove()
    throw err
  }
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1))
  const scene = new THREE.Scene()
  scene.background = new THREE.Color(BACKGROUND)
  const camera = new THREE.PerspectiveCamera(45, 1, 0.1, 5000)
  scene.add(new THREE.AmbientLight(0xffffff, 1.4))
  const sun = new THREE.DirectionalLight(0xffffff, 2)
  sun.position.set(80, 160, 120)
  scene.add(sun)

  const world = new THREE.Group()
  const hostLayer = new THREE.Group()
  const zoneLayer = new THREE.Group()
  const selectionLayer = new THREE.Group()
  world.add(zoneLayer, hostLayer, selectionLayer)
  scene.add(world)

  // Orbit by hand (a few lines instead of a second vendor file): drag turns, wheel zooms.
  const orbit = { theta: 0.8, phi: 1.05, radius: 155 }
  const target = new THREE.Vector3(0, 0, 0)
  const placeCamera = () => {
    camera.position.set(
      target.x + orbit.radius * Math.sin(orbit.phi) * Math.cos(orbit.theta),
      target.y + orbit.radius * Math.cos(orbit.phi),
      target.z + orbit.radius * Math.sin(orbit.phi) * Math.sin(orbit.theta),
    )
    camera.lookAt(target)
  }

  let frame = 0
  const render = () => {
    frame = 0
    renderer.render(scene, camera)
  }
  const requestRender = () => {
    if (frame === 0) frame = requestAnimationFrame(render)
  }

  const resize = () => {
    const w = container.clientWidth
    const h = container.clientHeight
    renderer.setSize(w, h, false)
    camera.aspect = w / Math.max(1, h)
    camera.updateProjectionMatrix()
    requestRender()
  }
  const observer = new ResizeObserver(resize)
  observer.observe(container)

  // ---------- hosts and zones ----------

  let hosts = []
  const byAddress = new Map()
  let toScene = (c) => new THREE.Vector3(c.x, c.z, c.y)

  const setHosts = (list) => {
    hosts = list
    for (const layer of [hostLayer, zoneLayer]) {
      disposeTree(layer)
      layer.clear()
    }
    byAddress.clear()
    if (list.length === 0) {
      requestRender()
      return
    }
    // Fit the hosts' bounding box (not the whole grid of side gridSize) into SIZE units; y is up (the host's z).
    const min = { x: Infinity, y: Infinity, z: Infinity }
    const max = { x: -Infinity, y: -Infinity, z: -Infinity }
    for (const h of list) for (const k of ['x', 'y', 'z']) {
      min[k] = Math.min(min[k], h.record.params.coord[k])
      max[k] = Math.max(max[k], h.record.params.coord[k])
    }
    const extent = Math.min(gridSize || Infinity, Math.max(20, max.x - min.x, max.y - min.y, max.z - min.z))
    const s = SIZE / extent
    const mid = { x: (min.x + max.x) / 2, y: (min.y + max.y) / 2, z: (min.z + max.z) / 2 }
    toScene = (c) => new THREE.Vector3((c.x - mid.x) * s, (c.z - mid.z) * s, (c.y - mid.y) * s)

    const caps = list.map((h) => Number(h.record.params.capacityBytes))
    const maxCap = Math.max(...caps, 1)
    const geometry = new THREE.SphereGeometry(1, 24, 16)
    for (const h of list) {
      const r = h.record
      const radius = 2 + 4 * Math.sqrt(Number(r.params.capacityBytes) / maxCap)
      const gone = r.status >= 3
      const material = new THREE.MeshStandardMaterial({ color: gone ? new THREE.Color(0x64748b) : reputationColor(r.reputation), roughness: 0.45, metalness: 0.1, transparent: gone, opacity: gone ? 0.4 : 1 })
      const mesh = new THREE.Mesh(geometry, material)
      mesh.scale.setScalar(radius)
      mesh.position.copy(toScene(r.params.coord))
      mesh.userData = { address: h.address, host: h, radius }
      hostLayer.add(mesh)
      byAddress.set(h.address, mesh)
    }

    // One translucent box per zone around its hosts, with the zone's name above it.
    const zones = [...new Set(list.map((h) => h.record.params.zone))].sort()
    zones.forEach((zone, i) => {
      const members = list.filter((h) => h.record.params.zone === zone).map((h) => byAddress.get(h.address))
      const box = new THREE.Box3()
      for (const m of members) box.expandByObject(m)
      box.expandByScalar(4)
      const size = box.getSize(new THREE.Vector3())
      const center = box.getCenter(new THREE.Vector3())
      const color = ZONE_COLORS[i % ZONE_COLORS.length]
      const cube = new THREE.BoxGeometry(size.x, size.y, size.z)
      const edges = new THREE.LineSegments(new THREE.EdgesGeometry(cube), new THREE.LineBasicMaterial({ color, transparent: true, opacity: 0.8 }))
      const fill = new THREE.Mesh(cube, new THREE.MeshBasicMaterial({ color, transparent: true, opacity: 0.07, depthWrite: false }))
      edges.position.copy(center)
      fill.position.copy(center)
      const label = textSprite(zone, `#${color.toString(16).padStart(6, '0')}`)
      // At the box's top corner, clear of the hosts inside.
      label.position.set(box.min.x, box.max.y + 3, box.min.z)
      zoneLayer.add(fill, edges, label)
    })

    // A floor grid under everything, for depth.
    const floor = new THREE.GridHelper(SIZE * 1.6, 16, 0x334155, 0x1e293b)
    floor.position.y = toScene({ x: mid.x, y: mid.y, z: min.z }).y - 10
    zoneLayer.add(floor)
    if (selection) showSelection(selection.items, selection.origin)
    requestRender()
  }

  // ---------- selection: an asset's placement or an execution's assignment ----------

  let selection
  const showSelection = (items, origin) => {
    selection = items.length ? { items, origin } : undefined
    disposeTree(selectionLayer)
    selectionLayer.clear()
    if (!selection) {
      requestRender()
      return
    }
    const points = items.map((it) => byAddress.get(it.host)).filter(Boolean)
    const centroid = points.reduce((acc, m) => acc.add(m.position), new THREE.Vector3()).divideScalar(Math.max(1, points.length))
    // The request's origin when it lies near the hosts; far away (e.g. the default 0,0,0) the hub sits among them.
    const at = origin ? toScene(origin) : undefined
    const from = at && at.length() < SIZE ? at : centroid
    const hub = new THREE.Mesh(new THREE.OctahedronGeometry(2.5), new THREE.MeshBasicMaterial({ color: 0xffffff }))
    hub.position.copy(from)
    selectionLayer.add(hub)
    const seen = new Map()
    items.forEach((it) => {
      const mesh = byAddress.get(it.host)
      if (!mesh) return
      const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints([from, mesh.position]), new THREE.LineBasicMaterial({ color: 0xffffff, transparent: true, opacity: 0.9 }))
      selectionLayer.add(line)
      const ring = new THREE.Mesh(new THREE.TorusGeometry(mesh.userData.radius + 1.5, 0.35, 8, 40), new THREE.MeshBasicMaterial({ color: 0xffffff }))
      ring.position.copy(mesh.position)
      ring.lookAt(camera.position)
      selectionLayer.add(ring)
      const n = seen.get(it.host) ?? 0
      seen.set(it.host, n + 1)
      const label = textSprite(it.label, '#ffffff', 0.8)
      label.position.copy(mesh.position).add(new THREE.Vector3(0, mesh.userData.radius + 4 + n * 3.5, 0))
      selectionLayer.add(label)
    })
    requestRender()
  }

  const highlight = (address) => {
    const mesh = byAddress.get(address)
    if (!mesh) return
    showSelection([{ host: address, label: 'this host' }], undefined)
  }

  // ---------- interaction ----------

  const raycaster = new THREE.Raycaster()
  const tip = container.querySelector('.tip')
  const pick = (ev) => {
    const rect = canvas.getBoundingClientRect()
    const pointer = new THREE.Vector2(((ev.clientX - rect.left) / rect.width) * 2 - 1, -((ev.clientY - rect.top) / rect.height) * 2 + 1)
    raycaster.setFromCamera(pointer, camera)
    return raycaster.intersectObjects(hostLayer.children)[0]?.object
  }
  let drag
  const onDown = (ev) => {
    drag = { x: ev.clientX, y: ev.clientY, moved: false }
    canvas.setPointerCapture(ev.pointerId)
  }
  const onMove = (ev) => {
    if (drag) {
      const dx = ev.clientX - drag.x
      const dy = ev.clientY - drag.y
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true
      drag.x = ev.clientX
      drag.y = ev.clientY
      orbit.theta += dx * 0.008
      orbit.phi = Math.max(0.15, Math.min(Math.PI - 0.15, orbit.phi - dy * 0.008))
      placeCamera()
      for (const o of selectionLayer.children) if (o.geometry?.type === 'TorusGeometry') o.lookAt(camera.position)
      requestRender()
      return
    }
    const hit = pick(ev)
    if (tip) {
      if (hit) {
        const h = hit.userData.host
        const c = h.record.params.coord
        tip.style.display = 'block'
        tip.style.left = `${ev.offsetX + 12}px`
        tip.style.top = `${ev.offsetY + 12}px`
        tip.textContent = `${h.address.slice(0, 10)}… · ${h.record.params.zone} · (${c.x}, ${c.y}, ${c.z}) · rep ${(h.record.reputation / 100).toFixed(1)} %`
      } else tip.style.display = 'none'
    }
    canvas.style.cursor = hit ? 'pointer' : 'grab'
  }
  const onUp = (ev) => {
    const wasClick = drag && !drag.moved
    drag = undefined
    if (wasClick) {
      const hit = pick(ev)
      if (hit) onPick(hit.userData.address)
    }
  }
  const onWheel = (ev) => {
    ev.preventDefault()
    orbit.radius = Math.max(40, Math.min(900, orbit.radius * (ev.deltaY > 0 ? 1.1 : 0.9)))
    placeCamera()
    requestRender()
  }
  canvas.addEventListener('pointerdown', onDown)
  canvas.addEventListener('pointermove', onMove)
  canvas.addEventListener('pointerup', onUp)
  canvas.addEventListener('wheel', onWheel, { passive: false })

  placeCamera()
  resize()
  render()

  return {
    setHosts,
    showSelection,
    highlight,
    /** For tests and curious users: how many hosts are drawn. */
    get hostCount() {
      return hostLayer.children.length
    },
    dispose() {
      observer.disconnect()
      if (frame) cancelAnimationFrame(frame)
      disposeTree(scene)
      renderer.dispose()
    },
  }
}
