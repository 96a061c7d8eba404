/** Progress lines from lab work; the CLI prints them, tests may collect or drop them. Lab code never prints. */
export type LabLog = (message: string) => void;

export const silent: LabLog = () => {};
