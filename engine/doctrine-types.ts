/** The doctrine data (schemas/doctrine.json), keyed by hardware class. */
export type JobsLevel = 'production' | 'experimental' | 'diagnostic';

export interface DoctrineClass {
  description: string;
  /** May a build (make-jobserver, tasks marked `build: true`) run on this class? */
  may_build: boolean;
  /** The default -j value (production). */
  default_jobs: number;
  /** Allowed values and their level. Any other value is rejected. */
  levels: Record<JobsLevel, number>;
  /** Values at or above this are forbidden outright. */
  forbidden_from: number;
  /** Experimental runs require the host to have booted at most this many minutes ago. */
  experimental_max_uptime_minutes: number;
  /** Thermal threshold in °C above which builds are throttled or refused. */
  thermal_threshold_c: number;
}

export interface Doctrine {
  source: string;
  classes: Record<string, DoctrineClass>;
}
