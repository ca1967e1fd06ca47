export declare const reportFontNames: Readonly<{ regular: "DejaVuSans.ttf"; bold: "DejaVuSans-Bold.ttf" }>;
export declare function reportFontFiles(): string[];
