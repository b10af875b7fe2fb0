import { toHex } from '../../crypto/index.ts'

/** An execution's output for people and scripts: hex always, UTF-8 when it is printable text, u32 LE when 4 bytes. */
export interface OutputView { hex: string; utf8: string | null; u32: number | null }

export function describeOutput(bytes: Uint8Array): OutputView {
  let text: string | null = null
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    // Printable: no control characters other than tab and newlines.
    if (bytes.length > 0 && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s)) text = s
  } catch {
    text = null
  }
  const u32 = bytes.length === 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true) : null
  return { hex: toHex(bytes), utf8: text, u32 }
}
