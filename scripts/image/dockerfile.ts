// The repository's Dockerfile as the image build reads it: the one base image it names.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { ROOT } from './container-tools';

export const DOCKERFILE = path.join(ROOT, 'Dockerfile');

/** The one FROM image of the Dockerfile; throws when there is not exactly one. */
export function dockerfileBaseImage(): string {
  const froms = DockerfileParser.parse(fs.readFileSync(DOCKERFILE, 'utf8')).getFROMs();
  if (froms.length !== 1) throw new Error(`${DOCKERFILE} has ${froms.length} FROM lines; the image is built from one base`);
  const image = froms[0].getImage();
  if (!image) throw new Error(`${DOCKERFILE}: FROM names no image`);
  return image;
}
