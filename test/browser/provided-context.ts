/** What test/browser/global-setup.ts provides to the browser tests (`inject(...)`). */
declare module "vitest" {
  export interface ProvidedContext {
    dashboardUrl: string;
    apiUrl: string;
  }
}

export {};
