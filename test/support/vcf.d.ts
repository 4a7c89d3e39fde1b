declare module 'vcf' {
  class Property {
    type?: string | string[];
    valueOf(): string;
  }
  class vCard {
    static parse(text: string): vCard[];
    get(key: string): Property | Property[] | undefined;
  }
  export = vCard;
}
