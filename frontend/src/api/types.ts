// Names for the daemon's schemas. Every shape comes from schema.d.ts, generated from the daemon's
// OpenAPI document (npm run gen:api); nothing here is hand-copied.
import type { components } from './schema'

type S = components['schemas']
export type Job = S['JobOut']
export type JobList = S['JobListOut']
export type JobStats = S['JobStats']
export type JobStatus = S['JobStatus']
export type JobCreate = S['JobCreate']
export type JobLogLine = S['JobLogLine']
export type Worker = S['WorkerOut']
export type WorkerStats = S['WorkerStats']
export type WorkerCreate = S['WorkerCreate']
export type Setting = S['SettingOut']
export type Resources = S['ResourcesOut']
export type Gpu = S['GpuOut']
export type FsListing = S['FsListing']
export type FsItem = S['FsItem']
export type Rule = S['RuleOut']
export type RuleConditions = S['RuleConditions']
export type RuleAction = S['RuleAction']
export type RulePreview = S['RulePreview']
export type PreviewFile = S['PreviewFile']
export type ScannerStatus = S['ScannerStatus']
export type ScanRequest = S['ScanRequest']
export type ScanResult = S['ScanResult']
export type SchedulerStart = S['SchedulerStart']
export type WatcherStart = S['WatcherStart']
export type SetupStatus = S['SetupStatus']
export type SetupResult = S['SetupResult']
export type StandaloneSetup = S['StandaloneSetup']
export type SetupRule = S['SetupRule']
export type Message = S['Message']

/** The body a rule is created or edited with (the API takes it as a free-form object). */
export type RuleInput = Pick<Rule, 'name' | 'enabled' | 'priority' | 'conditions' | 'action'>

export const JOB_STATUSES: JobStatus[] = ['queued', 'processing', 'completed', 'failed', 'cancelled']
