; Inno Setup script: a Windows installer around the one-folder app that build.spec builds.
;   iscc /DAppVersion=0.1.0 /DSourceDir="dist\VQA Studio" /DOutputDir=dist packaging\windows\vqa-studio.iss
; Built by .github/workflows/installers.yml on a hosted Windows runner (Inno Setup is preinstalled there).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\VQA Studio"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif

[Setup]
AppId={{7E1F4C2A-5B8D-4E39-9A61-2C7D0B3F8E15}
AppName=VQA Studio
AppVersion={#AppVersion}
AppPublisher=VQA Studio developers
DefaultDirName={autopf}\VQA Studio
DefaultGroupName=VQA Studio
DisableProgramGroupPage=yes
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#OutputDir}
OutputBaseFilename=vqa-studio-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\vqa-studio.ico
UninstallDisplayIcon={app}\vqa-studio.exe
Compression=lzma2/fast
SolidCompression=no
WizardStyle=modern

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\VQA Studio"; Filename: "{app}\vqa-studio.exe"; Parameters: "gui"
Name: "{group}\{cm:UninstallProgram,VQA Studio}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\VQA Studio"; Filename: "{app}\vqa-studio.exe"; Parameters: "gui"; Tasks: desktopicon

[Run]
Filename: "{app}\vqa-studio.exe"; Parameters: "gui"; Description: "{cm:LaunchProgram,VQA Studio}"; Flags: nowait postinstall skipifsilent
