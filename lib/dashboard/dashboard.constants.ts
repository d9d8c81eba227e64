/** The injection token of the resolved dashboard options. @internal */
export const DASHBOARD_OPTIONS = Symbol('nestjs-scheduler:dashboard-options');
/** The injection token of the provider that writes the dashboard's path on its controllers. @internal */
export const DASHBOARD_ROUTES = Symbol('nestjs-scheduler:dashboard-routes');
/** Metadata key of a mutating route: its action and the route parameter naming its target. @internal */
export const DASHBOARD_ACTION = 'scheduler:dashboard-action';
/** The header every mutation carries (the UI learns it from `GET api/config`). @publicApi */
export const DASHBOARD_CSRF_HEADER = 'x-scheduler-csrf';
/** Its value. @publicApi */
export const DASHBOARD_CSRF_VALUE = '1';
