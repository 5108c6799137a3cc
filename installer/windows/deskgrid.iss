; Inno Setup script for DeskGrid on Windows (Inno Setup 6).
;
; Build the bundle first (bash installer/build.sh from Git Bash, or the GitHub Actions
; workflow), then compile from the repository root (BundleDir must be an absolute path;
; relative paths in this script are relative to its own folder):
;   iscc /DAppVersion=0.1.0 "/DBundleDir=%CD%\build\installer\dist\deskgrid" installer\windows\deskgrid.iss
; The installer lands in build\installer\ as DeskGrid-<version>-setup.exe. Its icon (and the
; executables') is build\installer\icons\deskgrid.ico, which build.sh renders from
; resources\icons\deskgrid.svg (installer/render_icons.py): no .ico is kept in the repository.
;
; Installs per user by default (no administrator rights needed; the dialog offers all users),
; adds a Start menu entry (and optionally a desktop icon), optionally starts DeskGrid in the
; tray at login (the same Run value the app's own "Start at login" setting writes, so either
; can turn it off), and registers an uninstaller that removes the program folder. The user's
; data folder (wallets, settings) is left in place.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\build\installer\dist\deskgrid"
#endif
#define AppName "DeskGrid"
#define AppExe "DeskGrid.exe"

[Setup]
AppId={{6E0B8C1D-5A4F-4C1B-9A7E-2D3C4B5A6F70}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=DeskGrid developers
AppPublisherURL=https://github.com/deskgrid/deskgrid
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\build\installer
OutputBaseFilename=DeskGrid-{#AppVersion}-setup
SetupIconFile={#BundleDir}\..\..\icons\deskgrid.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
RestartApplications=no

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "startatlogin"; Description: "Start DeskGrid in the system tray when I log in (to donate idle CPU)"; GroupDescription: "Start-up:"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\{#AppName} (in the tray)"; Filename: "{app}\{#AppExe}"; Parameters: "--tray"
Name: "{group}\{#AppName} self-test"; Filename: "{cmd}"; Parameters: "/k ""{app}\deskgrid-cli.exe"" --self-test"
Name: "{group}\Uninstall {#AppName}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; The value name is the one deskgrid.desktop.autostart writes, so the app's setting and this task agree.
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueType: string; ValueName: "{#AppName}"; ValueData: """{app}\{#AppExe}"" --tray"; Tasks: startatlogin; Flags: uninsdeletevalue
Root: HKCU; Subkey: "Software\Microsoft\Windows\CurrentVersion\Run"; ValueName: "{#AppName}"; Flags: dontcreatekey uninsdeletevalue

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallRun]
; Stop a running copy (it may be in the tray) so its files can be removed.
Filename: "{sys}\taskkill.exe"; Parameters: "/f /im {#AppExe}"; Flags: runhidden; RunOnceId: "StopDeskGrid"
