import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildZip, type ZipSource } from './zip-builder.js';

/**
 * The project's own SCORM test courses. Their sources live in test/fixtures/courses/ (see the
 * README there); a course is the union of a few source folders, zipped at test time.
 */

export const COURSE_SOURCES = fileURLToPath(new URL('../fixtures/courses/', import.meta.url));

export type CourseName = 'bike-care-12' | 'bike-care-2004' | 'bike-workshop-12';
export const COURSE_NAMES: readonly CourseName[] = ['bike-care-12', 'bike-care-2004', 'bike-workshop-12'];

/** The folders each course is made of, and where each goes in the archive. */
const LAYOUT: Record<CourseName, readonly { readonly dir: string; readonly into: string }[]> = {
  'bike-care-12': [
    { dir: 'common', into: 'common/' },
    { dir: 'bike-content', into: '' },
    { dir: 'bike-care-12', into: '' },
  ],
  'bike-care-2004': [
    { dir: 'common', into: 'common/' },
    { dir: 'bike-content', into: '' },
    { dir: 'bike-care-2004', into: '' },
  ],
  'bike-workshop-12': [
    { dir: 'common', into: 'common/' },
    { dir: 'bike-workshop-12', into: '' },
  ],
};

export interface CourseFile {
  /** The entry name in the archive. */
  readonly name: string;
  /** The source file. */
  readonly path: string;
}

function walk(dir: string, prefix: string): CourseFile[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name), `${prefix}${d.name}/`) : [{ name: `${prefix}${d.name}`, path: join(dir, d.name) }],
  );
}

/** Every file of a course, sorted by entry name; two folders may not provide the same entry. */
export function courseFiles(course: CourseName): CourseFile[] {
  const files = new Map<string, CourseFile>();
  for (const part of LAYOUT[course]) {
    for (const file of walk(join(COURSE_SOURCES, part.dir), part.into)) {
      if (files.has(file.name)) throw new Error(`${course}: ${file.name} comes from two source folders`);
      files.set(file.name, file);
    }
  }
  return [...files.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Zips a course to `zipPath`, with `extra` entries added (e.g. a large media file). */
export async function buildCourse(course: CourseName, zipPath: string, options: { extra?: readonly ZipSource[] } = {}): Promise<string> {
  const sources: ZipSource[] = courseFiles(course).map((f) => ({ name: f.name, data: readFileSync(f.path) }));
  return buildZip(zipPath, [...sources, ...(options.extra ?? [])]);
}

/** Builds every course into `dir` as `<name>.zip`. */
export async function buildCourses(dir: string): Promise<void> {
  for (const course of COURSE_NAMES) await buildCourse(course, join(dir, `${course}.zip`));
}

/** The JSON array a course script assigns (`window.X = [...];`), so tests and course share one source. */
function assignedJson<T>(file: string): T {
  const text = readFileSync(join(COURSE_SOURCES, file), 'utf8');
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start < 0 || end < start) throw new Error(`${file} assigns no array`);
  return JSON.parse(text.slice(start, end + 1)) as T;
}

export interface BikePage {
  /** Relative to the launch page. */
  readonly url: string;
  /** The page's h1. */
  readonly title: string;
  readonly topic: string | null;
}

export interface BikeQuestion {
  readonly id: string;
  readonly topic: string;
  readonly type: 'choice' | 'true-false' | 'numeric';
  readonly text: string;
  readonly choices?: Readonly<Record<string, string>>;
  readonly answer: string;
}

/** The pages of both Bicycle Care courses (1.2 and 2004), in order; the last is the knowledge check. */
export const BIKE_PAGES: readonly BikePage[] = assignedJson<BikePage[]>('bike-content/pages.js');
export const BIKE_LAST_PAGE = BIKE_PAGES.length - 1;
export const BIKE_QUESTIONS: readonly BikeQuestion[] = assignedJson<BikeQuestion[]>('bike-content/questions.js');
/** The objectives the Bicycle Care SCOs report on: one per topic. */
export const BIKE_OBJECTIVES: readonly string[] = [...new Set(BIKE_PAGES.flatMap((p) => (p.topic ? [`obj_${p.topic}`] : [])))];
