// The parts of hpack.js (an independent HPACK implementation, used only as a
// test oracle for the sidecar's decoder) the tests call.
declare module 'hpack.js' {
  interface HeaderToCompress {
    name: string;
    value: string;
    huffman?: boolean;
    neverIndex?: boolean;
  }
  interface Compressor {
    write(headers: HeaderToCompress[]): void;
    read(): Buffer | null;
    updateTableSize(size: number): void;
  }
  export const compressor: { create(options: { table: { maxSize: number } }): Compressor };
  export const huffman: { encode: readonly (readonly [number, number])[] };
}
